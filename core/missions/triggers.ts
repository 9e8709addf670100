// Triggers: POST /api/missions/:id/trigger carries an HMAC-SHA256 of its raw
// body, made with the mission's own secret. A delivery with an idempotency key
// is recorded in PostgreSQL first, with the workflow id its run gets; then the
// run is started. A delivery recorded but not started (Temporal down, a crash)
// is started by the sender's retry or by the reconciler, with the same id:
// exactly one run per key.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Sql } from '../../db/sql';
import { AppError, ConflictError, NotFoundError, UnauthorizedError, ValidationError } from '../../lib/errors';
import { missionWorkflowId, missionWorkflowIdPrefix } from '../../lib/names';
import type { TemporalHandle } from '../../lib/temporal';
import { appendAudit } from '../audit/audit-log';
import { executeMission } from '../runs/start';
import { getMissionAnyWorkspace, triggerSecretOf } from './missions';
import { savedButPending, temporalError, withSyncLock } from './mission-sync';

export const SIGNATURE_HEADER = 'X-MC-Signature';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
const TRIGGER_ACTOR = { id: null, name: 'trigger' };

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureMatches(secret: string, body: string, given: string | undefined): boolean {
  if (!given) return false;
  const expected = Buffer.from(sign(secret, body));
  const actual = Buffer.from(given.trim());
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

interface Delivery {
  missionId: string;
  key: string;
  workflowId: string;
  runId: string | null;
  input: unknown;
}

type Started = { workflowId: string; runId: string; existed: boolean };

async function findDelivery(sql: Sql, missionId: string, key: string): Promise<Delivery | null> {
  const [d] = await sql<Delivery[]>`
    select mission_id as "missionId", idempotency_key as "key", workflow_id as "workflowId", run_id as "runId", input
    from trigger_deliveries where mission_id = ${missionId} and idempotency_key = ${key}`;
  return d ?? null;
}

async function runIdOf(temporal: TemporalHandle, workflowId: string): Promise<string | null> {
  try {
    return (await temporal.client.workflow.getHandle(workflowId).describe()).runId;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/**
 * Starts a recorded delivery's run unless Temporal already has it (a start whose record
 * was lost, even one that has completed since): one run per key. Returns null while
 * another replica is starting it.
 */
export async function startDelivery(sql: Sql, temporal: TemporalHandle, missionId: string, key: string, waitMs = 0): Promise<Started | null> {
  const locked = await withSyncLock(sql, `trigger:${missionId}:${key}`, async (): Promise<Started> => {
    const d = await findDelivery(sql, missionId, key);
    if (!d) throw new NotFoundError('Trigger delivery');
    const record = async (runId: string) => {
      await sql`update trigger_deliveries set run_id = ${runId}, last_error = null where mission_id = ${missionId} and idempotency_key = ${key}`;
      return runId;
    };
    if (d.runId) return { workflowId: d.workflowId, runId: d.runId, existed: true };
    try {
      const existing = await runIdOf(temporal, d.workflowId);
      if (existing) return { workflowId: d.workflowId, runId: await record(existing), existed: true };
      const suffix = d.workflowId.slice(missionWorkflowIdPrefix(missionId).length);
      try {
        const run = await executeMission(sql, temporal, { missionId, trigger: 'triggered', actor: TRIGGER_ACTOR, input: d.input, workflowSuffix: suffix });
        return { workflowId: run.workflowId, runId: await record(run.runId), existed: false };
      } catch (err) {
        const already = err instanceof ConflictError && (err.details as { workflowId?: string } | undefined)?.workflowId === d.workflowId;
        if (!already) throw err;
        return { workflowId: d.workflowId, runId: await record((await runIdOf(temporal, d.workflowId)) ?? ''), existed: true };
      }
    } catch (err) {
      if (err instanceof AppError && err.status < 500) {
        // The mission cannot run it (paused, no tasks, an inactive pattern): the reconciler stops trying; a retry by the sender tries again.
        await sql`update trigger_deliveries set given_up_at = now(), last_error = ${err.message} where mission_id = ${missionId} and idempotency_key = ${key}`;
        throw err;
      }
      await sql`
        update trigger_deliveries set attempts = attempts + 1, last_error = ${String((err as Error).message).slice(0, 500)},
          retry_at = now() + least(300, power(2, least(attempts, 9))) * interval '1 second'
        where mission_id = ${missionId} and idempotency_key = ${key}`.catch(() => undefined);
      throw temporalError(err);
    }
  }, waitMs);
  return locked.locked ? locked.value : null;
}

export async function deliverTrigger(
  sql: Sql, temporal: TemporalHandle,
  req: { missionId: string; body: string; signature?: string; idempotencyKey?: string },
): Promise<{ workflowId: string; runId: string | null; duplicate: boolean }> {
  // Unknown mission and bad signature answer alike, so the endpoint does not reveal which missions exist.
  const secret = await triggerSecretOf(sql, req.missionId).catch(() => null);
  if (!secret || !signatureMatches(secret, req.body, req.signature)) {
    throw new UnauthorizedError(`The ${SIGNATURE_HEADER} header must be "sha256=" + the hex HMAC-SHA256 of the raw body, keyed with the mission's trigger secret.`);
  }
  let input: unknown;
  try {
    input = req.body.trim() ? JSON.parse(req.body) : {};
  } catch {
    throw new ValidationError('The trigger body is not valid JSON.');
  }
  const key = req.idempotencyKey?.trim();
  if (key !== undefined && (key.length === 0 || key.length > 200)) throw new ValidationError(`${IDEMPOTENCY_HEADER} must be 1 to 200 characters.`);
  // The signature is the credential: the mission's own row says which workspace it is in.
  const mission = await getMissionAnyWorkspace(sql, req.missionId);
  if (mission.status === 'paused') throw new ConflictError(`Mission "${mission.name}" is paused; resume it before triggering it.`);
  if (!key) {
    // Nothing is recorded first: without a key, a failed start is the sender's to retry.
    const run = await executeMission(sql, temporal, { missionId: mission.id, trigger: 'triggered', actor: TRIGGER_ACTOR, input }).catch((err) => {
      throw temporalError(err);
    });
    return { ...run, duplicate: false };
  }
  const workflowId = missionWorkflowId(mission.id, `t-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`);
  const [claimed] = await sql`
    insert into trigger_deliveries (mission_id, idempotency_key, workflow_id, input)
    values (${mission.id}, ${key}, ${workflowId}, ${sql.json(input as never)})
    on conflict (mission_id, idempotency_key) do nothing
    returning workflow_id`;
  if (!claimed) {
    const prior = await findDelivery(sql, mission.id, key);
    if (prior?.runId) {
      await appendAudit(sql, { actor: TRIGGER_ACTOR, action: 'trigger.duplicate', entityType: 'mission', entityId: mission.id, details: { workflowId: prior.workflowId }, workspaceId: mission.workspaceId });
      return { workflowId: prior.workflowId, runId: prior.runId, duplicate: true };
    }
    // Recorded before, its run not started yet (that attempt failed, or is under way): start it now, same id.
  }
  let started: Started | null;
  try {
    started = await startDelivery(sql, temporal, mission.id, key, 5000);
  } catch (err) {
    throw savedButPending(err, 'The delivery is recorded.', `its run (${workflowId}) will be started automatically, once`, { workflowId });
  }
  // Another replica holds it: it is starting this very run.
  if (!started) return { workflowId, runId: null, duplicate: true };
  return { workflowId: started.workflowId, runId: started.runId, duplicate: started.existed };
}

/** The reconciler's part: deliveries recorded at least `minAgeMs` ago whose run was never started. */
export async function retryPendingDeliveries(sql: Sql, temporal: TemporalHandle, opts: { minAgeMs?: number; limit?: number } = {}): Promise<{ started: number; failed: number }> {
  const rows = await sql<{ missionId: string; key: string }[]>`
    select mission_id as "missionId", idempotency_key as "key" from trigger_deliveries
    where run_id is null and given_up_at is null and retry_at <= now()
      and created_at <= now() - ${opts.minAgeMs ?? 30_000} * interval '1 millisecond'
    order by created_at limit ${opts.limit ?? 50}`;
  let started = 0;
  let failed = 0;
  for (const r of rows) {
    try {
      if ((await startDelivery(sql, temporal, r.missionId, r.key))?.existed === false) started++;
    } catch (err) {
      failed++;
      const e = temporalError(err);
      if (e instanceof AppError && e.status === 503) break; // Temporal is down: the next pass tries again
    }
  }
  return { started, failed };
}
