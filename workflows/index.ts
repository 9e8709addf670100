// Every workflow the worker registers. Deterministic code only.
export { missionWorkflow } from './mission-workflow';
export { agentCommandWorkflow } from './agent-command-workflow';
