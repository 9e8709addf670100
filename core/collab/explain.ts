// The engine's explanations a person reading a run would want, as SYSTEM
// comments written once each (core/collab/comments.ts systemComment).
import type { TxSql } from '../../db/sql';
import { systemComment } from './comments';

/**
 * At the start of a retry: when the attempt before it began (its task.started event) but never ended (no
 * attempt_failed, failed or completed event), its worker was lost (killed, restarted, cut off) and Temporal
 * timed it out. Says so on the run, once per lost attempt. `eventKey` is the prefix of the attempts' event keys.
 */
export async function explainLostAttempt(
  sql: TxSql, workspaceId: string, at: { workflowId: string; taskId: string; taskName: string }, attempt: number, eventKey: string,
): Promise<void> {
  if (attempt < 2) return;
  const lost = attempt - 1;
  const [r] = await sql<{ started: boolean; ended: boolean }[]>`
    select exists (select 1 from events where idempotency_key = ${`${eventKey}started/${lost}`}) as started,
           exists (select 1 from events where idempotency_key in (${`${eventKey}failed/${lost}`}, ${`${eventKey}done`})) as ended`;
  if (!r?.started || r.ended) return;
  await systemComment(sql, workspaceId, { workflowId: at.workflowId, taskId: at.taskId },
    `Task “${at.taskName}” is running again (attempt ${attempt}): attempt ${lost} stopped without an answer, as when its worker is lost `
    + '(killed, restarted or cut off from Temporal), and Temporal scheduled it once more.', `${eventKey}lost/${lost}`);
}
