// Workflows of bench/agents.ts's worker: every workflow the product registers
// (missionWorkflow, agentCommandWorkflow), plus the bare workflow of one
// trivial activity that a command's round trip is measured against.
// Deterministic code only (bundled like workflows/index.ts).
export * from '../workflows/index';
export { bareSequentialWorkflow } from './workflows';
