// Triggers: POST /api/missions/:id/trigger carries an HMAC-SHA256 of its raw
// body, made with the mission's own secret. A repeated idempotency key
// starts nothing new: it answers with the run the first delivery started.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Sql } from '../../db/sql';
import { AppError, UnauthorizedError, ValidationError } from '../../lib/errors';
import type { TemporalHandle } from '../../lib/temporal';
import { appendAudit } from '../audit/audit-log';
import { executeMission } from '../runs/start';
import { getMission, triggerSecretOf } from './missions';

export const SIGNATURE_HEADER = 'X-MC-Signature';
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureMatches(secret: string, body: string, given: string | undefined): boolean {
  if (!given) return false;
  const expected = Buffer.from(sign(secret, body));
  const actual = Buffer.from(given.trim());
  return expected.length === actual.length && timingSafeEqual(expected, actual);
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
  const mission = await getMission(sql, req.missionId);
  const actor = { id: null, name: 'trigger' };
  if (!key) {
    const run = await executeMission(sql, temporal, { missionId: mission.id, trigger: 'triggered', actor, input });
    return { ...run, duplicate: false };
  }
  const suffix = `t-${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
  return sql.begin(async (tx) => {
    const [claimed] = await tx<{ workflowId: string }[]>`
      insert into trigger_deliveries (mission_id, idempotency_key, workflow_id)
      values (${mission.id}, ${key}, ${`mission-${mission.id}-${suffix}`})
      on conflict (mission_id, idempotency_key) do nothing
      returning workflow_id as "workflowId"`;
    if (!claimed) {
      const [prior] = await tx<{ workflowId: string; runId: string | null }[]>`
        select workflow_id as "workflowId", run_id as "runId" from trigger_deliveries where mission_id = ${mission.id} and idempotency_key = ${key}`;
      await appendAudit(tx, { actor, action: 'trigger.duplicate', entityType: 'mission', entityId: mission.id, details: { workflowId: prior!.workflowId } });
      return { workflowId: prior!.workflowId, runId: prior!.runId, duplicate: true };
    }
    try {
      const run = await executeMission(tx, temporal, { missionId: mission.id, trigger: 'triggered', actor, input, workflowSuffix: suffix });
      await tx`update trigger_deliveries set run_id = ${run.runId} where mission_id = ${mission.id} and idempotency_key = ${key}`;
      return { ...run, duplicate: false };
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') {
        // Temporal already has this run (a delivery whose record was lost): still one run.
        return { workflowId: claimed.workflowId, runId: null, duplicate: true };
      }
      throw err;
    }
  });
}
