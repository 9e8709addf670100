// The agent protocol's wire names and shapes, shared by Mission Control's
// server and the shipped client (client/agent/http-agent.ts), so the two
// cannot drift. No imports: an agent may copy this file into its own project.
//
// Every call carries the agent's token: `Authorization: Bearer mca_…`.
//   POST /api/agent/hello                       HelloRequest → HelloResponse
//   POST /api/agent/heartbeat                   HeartbeatRequest → HeartbeatResponse (409 superseded)
//   GET  /api/agent/stream                      server-sent events: StreamFrame, by `event:` name
//   POST /api/agent/commands/:id/result         CommandResult → { accepted: true } (409 once settled)
//   POST /api/agent/tasks/:id/result            TaskResult → { accepted: true } (409 once settled, 422 off its outputs)
//   POST /api/agent/tasks/:id/progress          TaskProgress → { cancelRequested }
//   POST /api/agent/metrics                     MetricsRequest → { accepted: n }
//   POST /api/agent/events                      EventsRequest → { accepted: n }
//   POST /api/agent/configurations/:version/ack ConfigurationAck → { status }
//   POST /api/agent/goodbye                     {} → { status: 'OFFLINE' }

export const AGENT_API_PREFIX = '/api/agent';
export const AGENT_TOKEN_PREFIX = 'mca_';

/** What Mission Control shows; an agent reports the first five (OFFLINE is Mission Control's verdict). */
export const AGENT_STATUSES = ['IDLE', 'RUNNING', 'PAUSED', 'BLOCKED', 'OFFLINE', 'ERROR'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export const REPORTED_STATUSES = ['IDLE', 'RUNNING', 'BLOCKED', 'ERROR'] as const;
export type ReportedStatus = (typeof REPORTED_STATUSES)[number];

/** Signatures: `v1=<hex HMAC-SHA256 of the exact `signed` text, keyed by the agent's signing secret>`. */
export const SIGNATURE_VERSION = 'v1';
export const SIGNATURE_ALGORITHM = 'HMAC-SHA256';

/** Temporal names for an agent that runs as a worker (kind `worker`): its queue and its activity. */
export function agentTaskQueue(agentId: string): string {
  return `agent-${agentId}`;
}
export const AGENT_COMMAND_ACTIVITY = 'agentCommand';
export const AGENT_COMMAND_WORKFLOW_TYPE = 'agentCommandWorkflow';
export function agentCommandWorkflowId(commandId: string): string {
  return `agent-command-${commandId}`;
}

export interface HelloRequest {
  version?: string;
  capabilities?: string[];
  metadata?: Record<string, unknown>;
  /** How often this agent will heartbeat (1,000 to 300,000 ms); the server's answer is the one to use. */
  heartbeatIntervalMs?: number;
  kind?: 'http' | 'worker';
}

export interface HelloResponse {
  agent: { id: string; name: string; workspaceId: string; status: AgentStatus; definition: { id: string; name: string; version: number } };
  /** Sent with every heartbeat; a newer hello (another process with the same token) supersedes it. */
  sessionId: string;
  heartbeatIntervalMs: number;
  /** A worker agent polls this Temporal task queue for the `agentCommand` activity. */
  taskQueue: string;
  signing: { algorithm: typeof SIGNATURE_ALGORITHM; version: typeof SIGNATURE_VERSION };
  /** The commands this agent's definition accepts. */
  commands: CommandSpec[];
}

export interface CommandSpec {
  type: string;
  description: string;
  /** JSON Schema of the payload. */
  payloadSchema: Record<string, unknown>;
  /** The least role in the workspace that may send it. */
  role: 'VIEWER' | 'CLOSER' | 'OPERATOR' | 'ADMIN';
  /** How long the agent has to answer, unless the sender says otherwise. */
  timeoutMs: number;
}

export interface HeartbeatRequest {
  sessionId: string;
  status: ReportedStatus;
  /** What it is doing now, in a few words. */
  currentTask?: string | null;
  /** Up to 16 numbers: cpu, memory, queue depth, … */
  resourceUsage?: Record<string, number>;
}

export interface HeartbeatResponse {
  status: AgentStatus;
  paused: boolean;
  heartbeatIntervalMs: number;
}

/** The text that was signed: the agent verifies the signature over these exact bytes, then parses them. */
export interface SignedCommand {
  v: 1;
  kind: 'command';
  id: string;
  agentId: string;
  workspaceId: string;
  type: string;
  payload: unknown;
  issuedAt: string;
  expiresAt: string;
}

/** A mission task's attempt on this agent: run it with its input and answer with its output. */
export interface SignedTask {
  v: 1;
  kind: 'task';
  id: string;
  agentId: string;
  workspaceId: string;
  task: { id: string; name: string; missionId: string; missionName: string; workflowId: string; execSeq: number; attempt: number };
  input: unknown;
  /** As a pattern's ctx: the outputs of earlier tasks by name, reviewers' notes, the run's own input. */
  context: { previous: Record<string, unknown>; notes: string | null; runInput: unknown };
  issuedAt: string;
  expiresAt: string;
}

export interface SignedFrame {
  signed: string;
  signature: string;
}

/** Frames of GET /api/agent/stream, by their SSE `event:` name. */
export interface StreamFrames {
  ready: { agentId: string; sessionId: string | null };
  command: SignedFrame;
  task: SignedFrame;
  /** Stop a task: its run was cancelled, or Temporal gave the attempt up. */
  cancel: { id: string; reason: string };
  configuration: { configurationId: string; name: string; version: number; yaml: string; effective: unknown };
  control: { paused: boolean };
  superseded: { sessionId: string };
}
export type StreamFrame = { [K in keyof StreamFrames]: { event: K; data: StreamFrames[K] } }[keyof StreamFrames];

export type CommandResult = { ok: true; result?: unknown } | { ok: false; error: { code?: string; message: string } };

/** A task's answer: its output (checked against the definition's outputs), or why it failed (retryable unless said). */
export type TaskResult = { ok: true; output: unknown } | { ok: false; error: { message: string; retryable?: boolean } };

export interface TaskProgress {
  percent?: number;
  message?: string;
}

export interface MetricsRequest {
  /** Up to 60 samples of up to 32 numeric values each; `at` defaults to now. */
  samples: { at?: string; values: Record<string, number> }[];
}

export interface EventsRequest {
  /** Up to 50: stored as `agent.reported.<type>` events. */
  events: { type: string; severity?: 'info' | 'warning' | 'error'; message?: string; payload?: Record<string, unknown> }[];
}

export interface ConfigurationAck {
  status: 'applied' | 'rejected';
  message?: string;
}

/** POST /api/agent/alerts: an alert with actions a person may take (open a page, send this agent a command, run the mission again). */
export interface AgentAlert {
  severity?: 'info' | 'warning' | 'error' | 'critical';
  title: string;
  message?: string;
  actions?: ({ kind: 'open'; label: string; href: string } | { kind: 'agent_command'; label: string; command: string; payload?: Record<string, unknown> })[];
  key?: string;
}
