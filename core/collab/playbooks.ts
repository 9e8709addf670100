// Playbooks (seed 003): "when an event of this type happens, run this
// mission". The runner reads the event stream in order from a cursor in
// PostgreSQL (any event: the engine's, an agent's agent.reported.*, a signed
// webhook's run) and starts the playbook's mission with the event as its input.
// Exactly once per event: the run's workflow id ends with the event's id and
// the playbook's, so a batch read again (a crash, another replica) finds its
// runs already started and Temporal refuses a second one. The run's trigger is
// `triggered`, its actor `playbook:<name>`, its input `{ event, playbook }`.
import { z } from 'zod';
import { rethrowConstraint } from '../../db/errors';
import type { Sql, TxSql } from '../../db/sql';
import { AppError, ConflictError, NotFoundError } from '../../lib/errors';
import type { Logger } from '../../lib/logger';
import type { TemporalHandle } from '../../lib/temporal';
import { text } from '../../lib/text';
import { appendAudit, type Actor } from '../audit/audit-log';
import { startStreamConsumer } from '../events/consumer';
import { executeMission } from '../runs/start';
import { refusedReference } from '../outreach/campaigns';

export const PLAYBOOKS_CURSOR = 'playbooks.cursor';
const BATCH = 100;

export const playbookSchema = z.strictObject({
  name: text().trim().min(1, 'A playbook needs a name.').max(120, 'A name is at most 120 characters.'),
  description: text().trim().max(2000, 'A description is at most 2000 characters.').default(''),
  triggerEventType: text().trim().max(120).regex(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$/, 'triggerEventType is an event type (agent.reported.sync_failed) or a prefix ending in a dot (alert.).'),
  missionId: z.uuid('missionId must be a mission id (a UUID).'),
  isActive: z.boolean().default(true),
});
export type PlaybookInput = z.infer<typeof playbookSchema>;
export const playbookPatchSchema = playbookSchema.partial().refine((p) => Object.keys(p).length > 0, 'Change something.');

export interface Playbook {
  id: string;
  name: string;
  description: string;
  triggerEventType: string;
  missionId: string;
  missionName: string;
  isActive: boolean;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const columns = (sql: TxSql) => sql`
  p.id, p.name, p.description, p.trigger_event_type as "triggerEventType", p.mission_id as "missionId", m.name as "missionName",
  p.is_active as "isActive", p.created_by as "createdBy", p.created_at as "createdAt", p.updated_at as "updatedAt"`;

export const listPlaybooks = (sql: TxSql, ws: { id: string }) =>
  sql<Playbook[]>`select ${columns(sql)} from playbooks p join missions m on m.id = p.mission_id where p.workspace_id = ${ws.id} order by lower(p.name) limit 500`;

export async function getPlaybook(sql: TxSql, id: string, ws: { id: string }): Promise<Playbook> {
  const [p] = await sql<Playbook[]>`select ${columns(sql)} from playbooks p join missions m on m.id = p.mission_id where p.id = ${id} and p.workspace_id = ${ws.id}`;
  if (!p) throw new NotFoundError('Playbook');
  return p;
}

async function checkMission(tx: TxSql, missionId: string | undefined, ws: { id: string }) {
  if (!missionId) return;
  const [m] = await tx`select 1 from missions where id = ${missionId} and workspace_id = ${ws.id}`;
  if (!m) throw refusedReference('missionId', 'mission');
}

const taken = (name: string) => ({ unique: `A playbook named "${name}" exists already in this workspace.` });

export async function createPlaybook(sql: Sql, input: PlaybookInput, actor: Actor, ws: { id: string }): Promise<Playbook> {
  return sql.begin(async (tx) => {
    await checkMission(tx, input.missionId, ws);
    const [row] = await tx<{ id: string }[]>`
      insert into playbooks (workspace_id, name, description, trigger_event_type, mission_id, is_active, created_by)
      values (${ws.id}, ${input.name}, ${input.description}, ${input.triggerEventType}, ${input.missionId}, ${input.isActive}, ${actor.name})
      returning id`;
    await appendAudit(tx, { actor, action: 'playbook.created', entityType: 'playbook', entityId: row!.id, details: { ...input }, workspaceId: ws.id });
    return getPlaybook(tx, row!.id, ws);
  }).catch((err) => rethrowConstraint(err, taken(input.name)));
}

export async function updatePlaybook(sql: Sql, id: string, patch: Partial<PlaybookInput>, actor: Actor, ws: { id: string }): Promise<Playbook> {
  return sql.begin(async (tx) => {
    const p = { ...(await getPlaybook(tx, id, ws)), ...patch };
    await checkMission(tx, patch.missionId, ws);
    await tx`
      update playbooks set name = ${p.name}, description = ${p.description}, trigger_event_type = ${p.triggerEventType}, mission_id = ${p.missionId},
             is_active = ${p.isActive}, updated_at = now()
      where id = ${id}`;
    await appendAudit(tx, { actor, action: 'playbook.updated', entityType: 'playbook', entityId: id, details: { changes: patch }, workspaceId: ws.id });
    return getPlaybook(tx, id, ws);
  }).catch((err) => rethrowConstraint(err, taken(patch.name ?? 'that name')));
}

export async function deletePlaybook(sql: Sql, id: string, actor: Actor, ws: { id: string }): Promise<void> {
  await sql.begin(async (tx) => {
    const p = await getPlaybook(tx, id, ws);
    await tx`delete from playbooks where id = ${id}`;
    await appendAudit(tx, { actor, action: 'playbook.deleted', entityType: 'playbook', entityId: id, details: { name: p.name }, workspaceId: ws.id });
  });
}

/** The workflow id suffix of a playbook's run for one event: the same on every reading of the stream. */
export const playbookRunSuffix = (eventId: string, playbookId: string) => `event-${eventId}-${playbookId.slice(0, 8)}`;

interface StreamEvent { id: string; type: string; entityType: string; entityId: string | null; missionId: string | null; runId: string | null; actor: string; at: Date; payload: Record<string, unknown>; workspaceId: string }

/**
 * One batch of the stream: each event that an active playbook of its workspace listens for starts that
 * playbook's mission once. A start Temporal cannot take (down) rolls the cursor back, so the batch is read
 * again; a paused or archived mission's start is skipped, audited. Returns how many events it read.
 */
export async function runPlaybooksOnce(sql: Sql, temporal: TemporalHandle): Promise<number> {
  return sql.begin(async (tx) => {
    await tx`insert into settings (key, value) values (${PLAYBOOKS_CURSOR}, ${tx.json({ after: 0 })}) on conflict (key) do nothing`;
    const [cursor] = await tx<{ after: number }[]>`select (value->>'after')::bigint as after from settings where key = ${PLAYBOOKS_CURSOR} for update`;
    const events = await tx<StreamEvent[]>`
      select id::text, type, entity_type as "entityType", entity_id as "entityId", mission_id::text as "missionId", run_id as "runId",
             actor, at, payload, workspace_id as "workspaceId"
      from events where id > ${cursor!.after} order by id limit ${BATCH}`;
    if (!events.length) return 0;
    const playbooks = await tx<{ id: string; name: string; type: string; missionId: string; workspaceId: string }[]>`
      select id, name, trigger_event_type as type, mission_id as "missionId", workspace_id as "workspaceId" from playbooks
      where is_active and workspace_id in ${tx([...new Set(events.map((e) => e.workspaceId))])}`;
    for (const e of events) {
      // A playbook's own runs' events never start it again (a run.* playbook would loop on itself).
      if (e.runId && /-event-\d+-[0-9a-f]{8}$/.test(e.runId)) continue;
      for (const pb of playbooks) {
        if (pb.workspaceId !== e.workspaceId || !(pb.type.endsWith('.') ? e.type.startsWith(pb.type) : e.type === pb.type)) continue;
        const event = { id: e.id, type: e.type, entityType: e.entityType, entityId: e.entityId, missionId: e.missionId, runId: e.runId, actor: e.actor, timestamp: e.at.toISOString(), payload: e.payload };
        try {
          await executeMission(sql, temporal, {
            missionId: pb.missionId, trigger: 'triggered', actor: { id: null, name: `playbook:${pb.name}` },
            input: { event, playbook: { id: pb.id, name: pb.name } }, workflowSuffix: playbookRunSuffix(e.id, pb.id),
          }, { id: pb.workspaceId });
        } catch (err) {
          if (err instanceof ConflictError && (err.details as { workflowId?: string } | undefined)?.workflowId) continue; // started before: once
          if (!(err instanceof AppError) || err.status === 503) throw err;
          await appendAudit(sql, {
            actor: { id: null, name: `playbook:${pb.name}` }, action: 'playbook.skipped', entityType: 'playbook', entityId: pb.id, workspaceId: pb.workspaceId,
            details: { eventId: e.id, eventType: e.type, reason: err.message }, idempotencyKey: `playbook.skipped:${pb.id}:${e.id}`,
          });
        }
      }
    }
    await tx`update settings set value = ${tx.json({ after: Number(events.at(-1)!.id) })}, updated_at = now() where key = ${PLAYBOOKS_CURSOR}`;
    return events.length;
  });
}

/** Runs the playbooks in the background: woken by new events, and looking on its own every few seconds. */
export function startPlaybookRunner(deps: { sql: Sql; temporal: TemporalHandle; logger: Logger }): { stop(): Promise<void> } {
  return startStreamConsumer(deps, 'playbooks', { size: BATCH, once: () => runPlaybooksOnce(deps.sql, deps.temporal) });
}
