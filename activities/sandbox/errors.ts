// The sandbox reports failures as the domain's PatternError (core/patterns/sandbox.ts).
export { PatternError, type PatternErrorKind, type SourcePosition } from '../../core/patterns/sandbox';
