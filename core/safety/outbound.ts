// The host side of ctx.outbound.send. The pattern only asks; the host checks
// the safety settings, records a dry run as "would send", blocks a disabled
// channel, calls the channel's adapter when live, and audits every attempt.
// Each attempt has an idempotency key, so a retried run never sends twice.
import type { Sql } from '../../db/sql';
import { appendAudit, type Actor } from '../audit/audit-log';
import { getSafety } from './settings';
import { CHANNELS, type Channel } from '../patterns/schemas';
import type { Config } from '../../lib/config';

export interface OutboundAdapter {
  send(message: { channel: Channel; payload: unknown; idempotencyKey: string }): Promise<{ status: number; body?: unknown }>;
}

export type Adapters = Partial<Record<Channel, OutboundAdapter>>;

/** The webhook adapter POSTs JSON to MC_WEBHOOK_URL. Other channels have no adapter in this build. */
export function createAdapters(config: Pick<Config, 'MC_WEBHOOK_URL'>): Adapters {
  if (!config.MC_WEBHOOK_URL) return {};
  const url = config.MC_WEBHOOK_URL;
  return {
    webhook: {
      async send(message) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': message.idempotencyKey, 'User-Agent': 'mission-control' },
          body: JSON.stringify({ channel: message.channel, payload: message.payload }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
        return { status: res.status, body: text.slice(0, 2000) };
      },
    },
  };
}

export type OutboundStatus = 'dry_run' | 'blocked' | 'sent' | 'failed';

export interface OutboundAttempt {
  channel: string;
  status: OutboundStatus;
  payload: unknown;
  error?: string;
}

export class OutboundBlockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutboundBlockedError';
  }
}

export interface OutboundRequest {
  channel: string;
  payload: unknown;
  idempotencyKey: string;
  patternId: string | null;
  executionKey: string;
  actor: Actor;
}

/** What the pattern gets back from ctx.outbound.send; throws OutboundBlockedError when refused. */
export async function sendOutbound(deps: { sql: Sql; adapters: Adapters }, req: OutboundRequest): Promise<{ attempt: OutboundAttempt; reply: unknown }> {
  const { sql } = deps;
  const channel = req.channel as Channel;
  const [done] = await sql<{ status: OutboundStatus; response: unknown; error: string | null }[]>`
    select status, response, error from outbound_messages where idempotency_key = ${req.idempotencyKey}`;
  if (done) return finish(req, done.status, done.error ?? undefined, done.response);

  const safety = await getSafety(sql);
  let status: OutboundStatus;
  let error: string | undefined;
  let response: unknown = null;
  if (!CHANNELS.includes(channel)) {
    status = 'blocked';
    error = `Unknown channel "${req.channel}". Channels: ${CHANNELS.join(', ')}.`;
  } else if (safety.dryRun) {
    status = 'dry_run';
  } else if (!safety.channels[channel]) {
    status = 'blocked';
    error = `The ${channel} channel is disabled in the safety settings.`;
  } else {
    const adapter = deps.adapters[channel];
    if (!adapter) {
      status = 'failed';
      error = `No adapter is configured for the ${channel} channel${channel === 'webhook' ? ' (set MC_WEBHOOK_URL)' : ''}.`;
    } else {
      try {
        response = await adapter.send({ channel, payload: req.payload, idempotencyKey: req.idempotencyKey });
        status = 'sent';
      } catch (err) {
        status = 'failed';
        error = `Sending through ${channel} failed: ${(err as Error).message}`;
      }
    }
  }
  await sql.begin(async (tx) => {
    const [row] = await tx`
      insert into outbound_messages (idempotency_key, channel, payload, status, response, error, pattern_id, execution_key)
      values (${req.idempotencyKey}, ${req.channel.slice(0, 64)}, ${tx.json(req.payload as never)}, ${status}, ${tx.json((response ?? null) as never)},
              ${error ?? null}, ${req.patternId}, ${req.executionKey})
      on conflict (idempotency_key) do nothing
      returning id`;
    if (!row) return;
    const action = status === 'dry_run' ? 'outbound.would_send' : `outbound.${status}`;
    await appendAudit(tx, {
      actor: req.actor, action, entityType: 'outbound', entityId: row.id as string,
      details: { channel: req.channel, patternId: req.patternId, executionKey: req.executionKey, ...(error ? { error } : {}) },
    });
  });
  return finish(req, status, error, response);
}

function finish(req: OutboundRequest, status: OutboundStatus, error: string | undefined, response: unknown) {
  const attempt: OutboundAttempt = { channel: req.channel, status, payload: req.payload, ...(error ? { error } : {}) };
  if (status === 'blocked') throw Object.assign(new OutboundBlockedError(error!), { attempt });
  if (status === 'failed') throw Object.assign(new Error(error), { attempt });
  const reply = status === 'dry_run' ? { dryRun: true, channel: req.channel } : { sent: true, channel: req.channel, response };
  return { attempt, reply };
}
