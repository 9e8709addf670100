// The sandbox module: the only place that knows about SES and worker threads.
import type { Config } from '../../lib/config';
import { SandboxPool } from './pool';

export { SandboxPool } from './pool';
export type { RunContext, RunRequest, RunResult } from './pool';
export { PatternError, type PatternErrorKind } from './errors';

export function createSandbox(config: Pick<Config, 'MC_SANDBOX_THREADS' | 'MC_SANDBOX_MEMORY_MB'>): SandboxPool {
  return new SandboxPool({ threads: config.MC_SANDBOX_THREADS || undefined, memoryMb: config.MC_SANDBOX_MEMORY_MB });
}
