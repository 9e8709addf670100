// The host side of ctx.outbound.send. The pattern only asks; the host checks
// the safety settings, records a dry run as "would send", blocks a disabled
// channel, and when live records the attempt as pending *before* the adapter
// sends it, then settles it as sent or failed. A send found pending (its
// worker died, or the database went away, between sending and recording) goes
// out again with the same idempotency key, which the receiver uses to apply
// it once; a delivered send is never reported as failed. Every outcome is
// audited once. The settings that decide are those of the sending run's
// workspace, where the attempt and its audit entries are recorded.
import type { Sql, TxSql } from '../../db/sql';
import { appendAudit, type Actor } from '../audit/audit-log';
import { CHANNELS, type Channel } from '../patterns/schemas';
import { getSafety } from './settings';
import { workspaceIdOf } from '../access/users';

/** A channel's way out (activities/adapters.ts has the real ones). */
export interface OutboundAdapter {
  /**
   * Sends one message. Throws OutboundRejectedError when the receiver answered that it did not take it;
   * any other error means the message may or may not have arrived.
   */
  send(message: { channel: Channel; payload: unknown; idempotencyKey: string }, opts?: { signal?: AbortSignal }): Promise<{ status: number; body?: unknown }>;
}

export type Adapters = Partial<Record<Channel, OutboundAdapter>>;

export type OutboundStatus = 'pending' | 'dry_run' | 'blocked' | 'sent' | 'failed';

export interface OutboundAttempt {
  channel: string;
  status: OutboundStatus;
  payload: unknown;
  error?: string;
}

export class OutboundBlockedError extends Error {
  override name = 'OutboundBlockedError';
}

/** The receiver answered, and did not take the message. */
export class OutboundRejectedError extends Error {
  override name = 'OutboundRejectedError';
}

/** The send may or may not have arrived: the run is retried, and the send goes out again with the same key. */
export class OutboundUncertainError extends Error {
  override name = 'OutboundUncertainError';
}

export interface OutboundRequest {
  channel: string;
  payload: unknown;
  idempotencyKey: string;
  patternId: string | null;
  executionKey: string;
  actor: Actor;
  signal?: AbortSignal;
  /** The workspace of the run that sends; omitted → the default workspace. */
  workspaceId?: string;
}

const FINAL: OutboundStatus[] = ['dry_run', 'blocked', 'sent'];

interface Row {
  id: string;
  status: OutboundStatus;
  response: unknown;
  error: string | null;
  attempts: number;
}

/** What the pattern gets back from ctx.outbound.send; throws OutboundBlockedError when refused. */
export async function sendOutbound(deps: { sql: Sql; adapters: Adapters }, req: OutboundRequest): Promise<{ attempt: OutboundAttempt; reply: unknown }> {
  const { sql } = deps;
  const channel = req.channel as Channel;
  const [done] = await sql<Row[]>`select id, status, response, error, attempts from outbound_messages where idempotency_key = ${req.idempotencyKey}`;
  if (done && FINAL.includes(done.status)) return finish(req, done.status, done.error ?? undefined, done.response);

  if (!done) {
    const safety = await getSafety(sql, req.workspaceId);
    const refusal = !CHANNELS.includes(channel)
      ? `Unknown channel "${req.channel}". Channels: ${CHANNELS.join(', ')}.`
      : !safety.dryRun && !safety.channels[channel] ? `The ${channel} channel is disabled in the safety settings.` : null;
    if (refusal || safety.dryRun) {
      const status = refusal ? 'blocked' : 'dry_run';
      const row = await sql.begin(async (tx) => {
        const [inserted] = await insertRow(tx, req, status, refusal);
        if (inserted) await audit(tx, req, inserted.id, status, refusal ?? undefined, 0);
        return inserted;
      });
      if (!row) return sendOutbound(deps, req); // another attempt recorded it first
      return finish(req, status, refusal ?? undefined, null);
    }
  }

  const adapter = deps.adapters[channel];
  if (!adapter) {
    const error = `No adapter is configured for the ${channel} channel${channel === 'webhook' ? ' (set MC_WEBHOOK_URL)' : ''}.`;
    const row = done ?? (await insertRow(sql, req, 'failed', error))[0];
    if (row) await settle(sql, req, row.id, 'failed', null, error, row.attempts + 1);
    return finish(req, 'failed', error, null);
  }

  // Recorded before it goes out: a crash after this line leaves a pending row, and the retry sends again with the same key.
  const [pending] = await sql<Row[]>`
    insert into outbound_messages (idempotency_key, channel, payload, status, pattern_id, execution_key, attempts, workspace_id)
    values (${req.idempotencyKey}, ${req.channel.slice(0, 64)}, ${sql.json(req.payload as never)}, 'pending', ${req.patternId}, ${req.executionKey}, 1,
            ${workspaceOf(sql, req)})
    on conflict (idempotency_key) do update set attempts = outbound_messages.attempts + 1, status = 'pending', updated_at = now()
      where outbound_messages.status in ('pending', 'failed')
    returning id, status, response, error, attempts`;
  if (!pending) return sendOutbound(deps, req); // settled by another attempt meanwhile
  if (req.signal?.aborted) throw new OutboundUncertainError('The run was stopped before the message was sent.');

  let response: { status: number; body?: unknown };
  try {
    response = await adapter.send({ channel, payload: req.payload, idempotencyKey: req.idempotencyKey }, { signal: req.signal });
  } catch (err) {
    if (err instanceof OutboundRejectedError) {
      const error = `Sending through ${channel} failed: ${err.message}`;
      await settle(sql, req, pending.id, 'failed', null, error, pending.attempts);
      return finish(req, 'failed', error, null);
    }
    throw new OutboundUncertainError(`Sending through ${channel} did not complete (${(err as Error).message}); it will be sent again with the same idempotency key.`);
  }
  await settle(sql, req, pending.id, 'sent', response, undefined, pending.attempts);
  return finish(req, 'sent', undefined, response);
}

const workspaceOf = (sql: TxSql, req: OutboundRequest) => workspaceIdOf(sql, req.workspaceId ? { id: req.workspaceId } : undefined);

function insertRow(tx: TxSql, req: OutboundRequest, status: OutboundStatus, error: string | null) {
  return tx<Row[]>`
    insert into outbound_messages (idempotency_key, channel, payload, status, error, pattern_id, execution_key, workspace_id)
    values (${req.idempotencyKey}, ${req.channel.slice(0, 64)}, ${tx.json(req.payload as never)}, ${status}, ${error}, ${req.patternId}, ${req.executionKey},
            ${workspaceOf(tx, req)})
    on conflict (idempotency_key) do nothing
    returning id, status, response, error, attempts`;
}

/** Settles a pending send and audits its outcome once (a failure once per attempt). */
async function settle(sql: Sql, req: OutboundRequest, id: string, status: 'sent' | 'failed', response: unknown, error: string | undefined, attempt: number) {
  await sql.begin(async (tx) => {
    await tx`
      update outbound_messages set status = ${status}, response = ${tx.json((response ?? null) as never)}, error = ${error ?? null}, updated_at = now()
      where id = ${id}`;
    await audit(tx, req, id, status, error, attempt);
  });
}

function audit(tx: TxSql, req: OutboundRequest, id: string, status: OutboundStatus, error: string | undefined, attempt: number) {
  const action = status === 'dry_run' ? 'outbound.would_send' : `outbound.${status}`;
  return appendAudit(tx, {
    actor: req.actor, action, entityType: 'outbound', entityId: id,
    details: { channel: req.channel, patternId: req.patternId, executionKey: req.executionKey, ...(error ? { error } : {}) },
    idempotencyKey: `outbound/${req.idempotencyKey}/${status}${status === 'failed' ? `/${attempt}` : ''}`,
    workspaceId: req.workspaceId,
  });
}

function finish(req: OutboundRequest, status: OutboundStatus, error: string | undefined, response: unknown) {
  const attempt: OutboundAttempt = { channel: req.channel, status, payload: req.payload, ...(error ? { error } : {}) };
  if (status === 'blocked') throw Object.assign(new OutboundBlockedError(error!), { attempt });
  if (status === 'failed') throw Object.assign(new Error(error), { attempt });
  const reply = status === 'dry_run' ? { dryRun: true, channel: req.channel } : { sent: true, channel: req.channel, response };
  return { attempt, reply };
}
