// The shipped client for an agent written in TypeScript that runs as a Temporal worker (kind `worker`):
// its commands come as the `agentCommand` activity on its own task queue, `agent-<id>`, verified before they run.
// Everything else (hello, heartbeats, status, tasks, configurations, pause, metrics, goodbye) is AgentClient's, inherited.
import type { NativeConnection, Worker } from '@temporalio/worker';
import { AgentClient, type AgentClientOptions } from './http-agent';
import { AGENT_COMMAND_ACTIVITY, agentTaskQueue, type CommandResult, type HelloResponse, type SignedCommand, type SignedFrame } from './protocol';
import { verifyFrame, type FrameVerdict } from './signature';
import { describe } from './http';

export interface NativeAgentOptions extends AgentClientOptions {
  /** The Temporal service Mission Control's own worker uses (its TEMPORAL_ADDRESS), or a connection to it that stop() leaves open. */
  temporal: { address: string; namespace?: string } | { connection: NativeConnection; namespace?: string };
}

type Rejection = Extract<FrameVerdict<SignedCommand>, { ok: false }>['reason'];
const REFUSALS: Record<Rejection, string> = {
  signature: "its signature does not verify with this agent's signing secret",
  malformed: 'it is not a well-formed command frame',
  foreign: 'it is addressed to another agent',
  expired: 'it has expired',
};

/** A handler that ignores its signal cannot hold stop() for ever. */
const WORKER_FORCE_STOP = '10s';

interface Poller {
  worker: Worker;
  done: Promise<void>;
  /** Ours to close: made from `temporal.address`. */
  connection: NativeConnection | null;
}

export class NativeAgent extends AgentClient {
  protected override readonly kind = 'worker';
  private readonly temporal: NativeAgentOptions['temporal'];
  private readonly secret: string;
  private agentId = '';
  private poller: Poller | null = null;

  constructor(options: NativeAgentOptions) {
    super(options);
    this.temporal = options.temporal;
    this.secret = options.signingSecret;
  }

  /** Says hello as a worker agent, then heartbeats, listens to the stream and polls its task queue for commands until stop(). */
  override async start(): Promise<HelloResponse> {
    const hello = await super.start();
    this.agentId = hello.agent.id;
    try {
      this.poller = await this.startWorker(agentTaskQueue(hello.agent.id));
    } catch (error) {
      await super.stop();
      throw error;
    }
    return hello;
  }

  /** Stops polling, aborts running handlers (their activities answer), says goodbye, and waits for the worker to end. */
  override async stop(): Promise<void> {
    const running = this.poller;
    this.poller = null;
    if (running?.worker.getState() === 'RUNNING') running.worker.shutdown();
    await super.stop();
    await running?.done;
    await running?.connection?.close();
  }

  /**
   * The `agentCommand` activity: a frame that verifies with this agent's signing secret, names it and has not expired runs
   * its handler; any other is refused with a `frame_rejected` error and runs nothing. Temporal delivers it once (no retries).
   */
  async answer(frame: SignedFrame): Promise<CommandResult> {
    const verdict = await verifyFrame(this.secret, frame, { kind: 'command', agentId: this.agentId });
    if (!verdict.ok) {
      this.stats.rejectedFrames++;
      this.log.warn(`command frame rejected (${verdict.reason}); refused`);
      return { ok: false, error: { code: 'frame_rejected', message: `The agent refused the command: ${REFUSALS[verdict.reason]}.` } };
    }
    const answer = (await this.run(verdict.body)) as CommandResult;
    this.log.info(`answered ${verdict.body.type} (${verdict.body.id}): ${answer.ok ? 'ok' : answer.error.message}`);
    return answer;
  }

  private async startWorker(taskQueue: string): Promise<Poller> {
    // Loaded here, not at import: an HTTP agent importing client/agent does not load Temporal's native core.
    const { NativeConnection, Worker } = await import('@temporalio/worker');
    const own = 'address' in this.temporal ? await NativeConnection.connect({ address: this.temporal.address }) : null;
    try {
      const worker = await Worker.create({
        connection: own ?? (this.temporal as { connection: NativeConnection }).connection,
        namespace: this.temporal.namespace ?? 'default',
        taskQueue,
        activities: { [AGENT_COMMAND_ACTIVITY]: (frame: SignedFrame) => this.answer(frame) },
        shutdownForceTime: WORKER_FORCE_STOP,
      });
      const done = worker.run().catch((error: unknown) => {
        this.log.warn(`Temporal worker stopped: ${describe(error)}`);
        this.setStatus('ERROR', 'not polling its task queue');
      });
      this.log.info(`polling Temporal task queue ${taskQueue} for commands`);
      return { worker, done, connection: own };
    } catch (error) {
      await own?.close();
      throw error;
    }
  }
}
