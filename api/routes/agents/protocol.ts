// The agent protocol over plain HTTP (client/agent/protocol.ts), for agents in
// any language: hello, heartbeats, a server-sent-events stream of work
// (commands, configuration, control), and posts of results, metrics and events.
// Agent tokens only; an agent acts on itself and nothing else.
import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { ActivityCancelledError, ActivityNotFoundError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { SIGNATURE_ALGORITHM, SIGNATURE_VERSION, agentTaskQueue, type HelloResponse, type StreamFrames } from '../../../client/agent/protocol';
import { WORK_CHANGED, authenticateAgentToken } from '../../../core/agents/agents';
import { answerableCommand, markDelivered, openCommandFrames } from '../../../core/agents/commands';
import { abandonTask, answerableTask, cancelledTasks, markTasksDelivered, openTaskFrames, outputProblem, settleTaskResult } from '../../../core/agents/tasks';
import { SchemaMismatchError } from '../../../core/agents/json-schema';
import { acknowledgeConfiguration, pendingConfiguration } from '../../../core/agents/configurations';
import { getDefinition } from '../../../core/agents/definitions';
import { recordMetrics } from '../../../core/agents/metrics';
import { goodbye, heartbeat, hello } from '../../../core/agents/presence';
import {
  agentEventsSchema, commandResultSchema, configurationAckSchema, heartbeatSchema, helloSchema, metricsSchema, taskProgressSchema, taskResultSchema,
} from '../../../core/agents/schemas';
import { appendEvent } from '../../../core/events/events';
import { eventStreamOf, type Subscription } from '../../../core/events/stream';
import { isConnectionError } from '../../../db/sql';
import { ConflictError, RateLimitedError, UnavailableError } from '../../../lib/errors';
import { currentAgent, type AppDeps, type AppEnv } from '../../context';
import { raiseAlert } from '../../../core/alerts/alerts';
import { agentAlertSchema } from '../../../core/alerts/alert-schemas';
import { agentWorkItemRoutes } from './work-items';
import { authorize } from '../../middleware/authorize';
import { valid } from '../../validate';

/**
 * How often an open stream looks for work without being woken. Every change to an agent's work (a command,
 * a task, a cancel, a configuration, pause and resume, a rotated token, removal) appends an event that wakes
 * its stream on whichever replica holds it, and the event reader catches a missed notification within
 * seconds: this is the last resort only, and a fleet's open streams must not cost the database a query each
 * every few seconds.
 */
const LOOK_MS = 60_000;
/** How often an open stream checks that its token still lets it in (a rotation or removal ends it at once, by its wake-up). */
const RECHECK_TOKEN_MS = 60_000;
const KEEPALIVE_MS = 15_000;

/** Requests from one agent, per process: `perSecond` with bursts of twice that, so a runaway agent cannot flood the database. */
class AgentBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perSecond: number) {}
  take(agentId: string): void {
    const now = Date.now();
    const burst = this.perSecond * 2;
    const b = this.buckets.get(agentId) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < 1) throw new RateLimitedError(1);
    b.tokens -= 1;
    if (this.buckets.size > 10_000) this.buckets.clear();
    this.buckets.set(agentId, b);
  }
}

export function agentProtocolRoutes(deps: AppDeps) {
  const app = new Hono<AppEnv>();
  const buckets = new AgentBuckets(deps.config.MC_AGENT_REQUEST_RATE_LIMIT);
  const agent = authorize('agent');
  app.use('*', agent, async (c, next) => {
    buckets.take(currentAgent(c).id);
    return next();
  });

  app.post('/hello', agent, valid('json', helloSchema), async (c) => {
    const me = currentAgent(c);
    const { agent: a, sessionId } = await hello(deps.sql, me.id, c.req.valid('json'));
    const def = await getDefinition(deps.sql, a.definitionId, { id: a.workspaceId });
    const body: HelloResponse = {
      agent: { id: a.id, name: a.name, workspaceId: a.workspaceId, status: a.status, definition: { id: def.id, name: def.name, version: def.currentVersion } },
      sessionId, heartbeatIntervalMs: a.heartbeatIntervalMs, taskQueue: agentTaskQueue(a.id),
      signing: { algorithm: SIGNATURE_ALGORITHM, version: SIGNATURE_VERSION }, commands: def.commands,
    };
    return c.json(body);
  });

  app.post('/heartbeat', agent, valid('json', heartbeatSchema), async (c) => {
    const me = currentAgent(c);
    const { answer, relay } = await heartbeat(deps.sql, me.id, c.req.valid('json'));
    // The agent is alive: so are the task attempts it holds, as far as Temporal's heartbeat timeout is concerned.
    await Promise.all(relay.map((t) => relayOne(deps.temporal.client, deps, t.id, t.taskToken)));
    return c.json(answer);
  });

  app.post('/goodbye', agent, async (c) => {
    await goodbye(deps.sql, currentAgent(c).id);
    return c.json({ status: 'OFFLINE' });
  });

  app.post('/commands/:id/result', agent, valid('param', z.object({ id: z.uuid('Not a valid command id.') })), valid('json', commandResultSchema), async (c) => {
    const { taskToken } = await answerableCommand(deps.sql, c.req.valid('param').id, currentAgent(c).id);
    try {
      // The workflow takes it from here: it writes the outcome once and answers whoever waits for it.
      await deps.temporal.client.activity.complete(new Uint8Array(taskToken), c.req.valid('json'));
    } catch (err) {
      if (err instanceof ActivityNotFoundError) throw new ConflictError('This command is already settled (answered, timed out or cancelled).', { code: 'settled' });
      throw err;
    }
    return c.json({ accepted: true });
  });

  const taskParam = valid('param', z.object({ id: z.uuid('Not a valid task id.') }));
  app.post('/tasks/:id/result', agent, taskParam, valid('json', taskResultSchema), async (c) => {
    const task = await answerableTask(deps.sql, c.req.valid('param').id, currentAgent(c).id);
    const answer = c.req.valid('json');
    if (answer.ok) {
      const problem = outputProblem(task.outputsConfig, answer.output);
      if (problem) throw new SchemaMismatchError(`The output of "${task.taskName}" does not match its definition's outputs: ${problem}.`, [{ path: '/output', message: problem }]);
    }
    const settled = await settleTaskResult(deps.sql, task, answer);
    try {
      if ('result' in settled) await deps.temporal.client.activity.complete(new Uint8Array(task.taskToken), settled.result);
      else {
        await deps.temporal.client.activity.fail(new Uint8Array(task.taskToken), ApplicationFailure.create({
          type: 'AgentTaskFailed', message: settled.failure.message, nonRetryable: settled.failure.final,
          details: [{ kind: 'agent', attempt: task.attempt, failures: settled.failure.failures }],
        }));
      }
    } catch (err) {
      if (err instanceof ActivityNotFoundError) throw new ConflictError('This task attempt was already given up (timed out or cancelled); its answer is not taken.', { code: 'settled' });
      throw err;
    }
    return c.json({ accepted: true });
  });

  app.post('/tasks/:id/progress', agent, taskParam, valid('json', taskProgressSchema), async (c) => {
    const task = await answerableTask(deps.sql, c.req.valid('param').id, currentAgent(c).id);
    const progress = c.req.valid('json');
    await deps.sql`update agent_tasks set status = 'running', progress = ${deps.sql.json(progress as never)}, last_relayed_at = now() where id = ${task.id}`;
    return c.json({ cancelRequested: !(await relayOne(deps.temporal.client, deps, task.id, task.taskToken, progress)) });
  });

  app.post('/metrics', agent, valid('json', metricsSchema), async (c) => {
    const me = currentAgent(c);
    return c.json({ accepted: await recordMetrics(deps.sql, { id: me.id, workspaceId: me.workspaceId }, c.req.valid('json').samples) });
  });

  app.post('/events', agent, valid('json', agentEventsSchema), async (c) => {
    const me = currentAgent(c);
    const { events } = c.req.valid('json');
    await deps.sql.begin(async (tx) => {
      for (const e of events) {
        await appendEvent(tx, {
          type: `agent.reported.${e.type}`, entityType: 'agent', entityId: me.id, actor: `agent:${me.name}`, workspaceId: me.workspaceId,
          payload: { severity: e.severity, ...(e.message ? { message: e.message } : {}), ...(e.payload ?? {}) },
        });
      }
    });
    return c.json({ accepted: events.length });
  });

  app.post('/configurations/:version/ack', agent, valid('param', z.object({ version: z.coerce.number().int().min(1) })), valid('json', configurationAckSchema), async (c) => {
    const ack = c.req.valid('json');
    await acknowledgeConfiguration(deps.sql, currentAgent(c).id, c.req.valid('param').version, ack);
    return c.json({ status: ack.status });
  });

  // Seed 001's alerts from the agent itself: once per key, in its workspace, with actions a person may take.
  app.post('/alerts', agent, valid('json', agentAlertSchema), async (c) => {
    const me = currentAgent(c);
    const a = c.req.valid('json');
    const { id, raised } = await raiseAlert(deps.sql, {
      workspaceId: me.workspaceId, key: `agent:${me.id}:${a.key ?? randomUUID()}`, source: 'agent', kind: 'agent_alert', severity: a.severity,
      title: a.title, message: a.message, actions: a.actions, agentId: me.id, actor: `agent:${me.name}`,
    });
    return c.json({ alertId: id, raised }, raised ? 201 : 200);
  });

  app.get('/stream', agent, (c) => streamWork(deps, c));
  app.route('/work-items', agentWorkItemRoutes(deps));
  return app;
}

/** Tells Temporal the attempt is alive; false when it is no more (the run cancelled, the attempt given up), and the agent is told. */
async function relayOne(client: Client, deps: AppDeps, id: string, taskToken: Buffer, details?: unknown): Promise<boolean> {
  try {
    await client.activity.heartbeat(new Uint8Array(taskToken), details);
    return true;
  } catch (err) {
    if (err instanceof ActivityCancelledError) {
      await client.activity.reportCancellation(new Uint8Array(taskToken)).catch(() => undefined);
      await abandonTask(deps.sql, id, 'cancelled');
      return false;
    }
    if (err instanceof ActivityNotFoundError) {
      await abandonTask(deps.sql, id, 'lost');
      return false;
    }
    deps.logger.warn({ err: (err as Error).message, task: id }, 'could not relay an agent task heartbeat to Temporal');
    return true;
  }
}

/** The stream of an agent's work: what is open for it now, then whatever an event says changed. */
async function streamWork(deps: AppDeps, c: Context<AppEnv>) {
  const me = currentAgent(c);
  const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('Authorization') ?? '')?.[1] ?? '';
  let sub: Subscription;
  let session: string | null;
  try {
    const [row] = await deps.sql<{ session: string | null }[]>`select session_id as session from agents where id = ${me.id} and deleted_at is null`;
    session = row?.session ?? null;
    // Woken by its work's events only (core/agents/agents.ts wakeAgent), not by everything said about it.
    sub = await eventStreamOf(deps.sql, deps.logger).subscribe({ type: WORK_CHANGED, entityType: 'agent', entityId: me.id }, undefined, { id: me.workspaceId });
  } catch (err) {
    if (isConnectionError(err)) throw new UnavailableError('The work stream cannot be opened right now (the database is unreachable); try again shortly.');
    throw err;
  }
  if (!session) {
    sub.close();
    throw new ConflictError('Say hello first (POST /api/agent/hello): the stream belongs to a session.', { code: 'no_session' });
  }
  c.header('Cache-Control', 'no-store');
  c.header('X-Accel-Buffering', 'no');
  return streamSSE(c, async (sse) => {
    sse.onAbort(() => sub.close());
    const send = <K extends keyof StreamFrames>(event: K, data: StreamFrames[K], id?: string) => sse.writeSSE({ event, data: JSON.stringify(data), ...(id ? { id } : {}) });
    await sse.writeSSE({ event: 'ready', data: JSON.stringify({ agentId: me.id, sessionId: session }), retry: 2000 });
    const keepalive = setInterval(() => void sse.write(': keepalive\n\n').catch(() => sub.close()), KEEPALIVE_MS);
    const recheck = setInterval(() => void authenticateAgentToken(deps.sql, token).then((ok) => ok || sub.close(), () => undefined), RECHECK_TOKEN_MS);
    const look = lookForWork(deps, me.id, session!, send);
    try {
      let woken = sub.next();
      for (;;) {
        if (!(await look())) break;
        const timer = new Promise<'timer'>((resolve) => setTimeout(() => resolve('timer'), LOOK_MS).unref());
        const why = await Promise.race([woken, timer]);
        if (why === null) break; // the subscription ended (closed, or the server is stopping)
        if (why !== 'timer') woken = sub.next();
      }
    } catch (err) {
      if (!sse.aborted) deps.logger.warn({ err: (err as Error).message, agentId: me.id }, 'agent stream ended');
    } finally {
      clearInterval(keepalive);
      clearInterval(recheck);
      sub.close();
    }
  });
}

/** One look: sends what this connection has not sent yet; false once the stream should end (superseded, removed). */
function lookForWork(deps: AppDeps, agentId: string, session: string, send: <K extends keyof StreamFrames>(event: K, data: StreamFrames[K], id?: string) => Promise<void>) {
  const sent = new Set<string>();
  let since = new Date();
  let paused: boolean | null = null;
  let config: string | null = null;
  return async (): Promise<boolean> => {
    const [a] = await deps.sql<{ session: string | null; paused: boolean }[]>`
      select session_id as session, paused_at is not null as paused from agents where id = ${agentId} and deleted_at is null`;
    if (!a) return false;
    if (a.session !== session) {
      await send('superseded', { sessionId: session });
      return false;
    }
    if (a.paused !== paused) await send('control', { paused: (paused = a.paused) });
    const pending = await pendingConfiguration(deps.sql, agentId);
    const key = pending ? `${pending.configurationId}/${pending.version}` : null;
    if (pending && key !== config) await send('configuration', pending, `configuration:${key}`);
    config = key;
    const looked = new Date();
    for (const c of await cancelledTasks(deps.sql, agentId, since)) {
      if (sent.has(c.id)) await send('cancel', { id: c.id, reason: c.status === 'cancelled' ? 'the run was cancelled' : 'Temporal gave this attempt up' });
    }
    since = new Date(looked.getTime() - 1000); // overlapping a little: a cancel is safe to repeat, not to miss
    for (const [kind, frames, mark] of [
      ['command', await openCommandFrames(deps.sql, agentId), markDelivered],
      ['task', await openTaskFrames(deps.sql, agentId), markTasksDelivered],
    ] as const) {
      const fresh = frames.filter((f) => !sent.has(f.id));
      for (const f of fresh) {
        await send(kind, { signed: f.signed, signature: f.signature }, `${kind}:${f.id}`);
        sent.add(f.id);
      }
      await mark(deps.sql, fresh.map((f) => f.id));
    }
    return true;
  };
}
