// Patterns: versioned JavaScript functions in a container. Every change to
// code or config is a new immutable version; the pattern points at its
// current one. Metadata (name, flags, priority) changes in place. A pattern
// belongs to its container's workspace; one of another workspace is not found.
import type { Sql, TxSql } from '../../db/sql';
import { rethrowConstraint } from '../../db/errors';
import { AppError, ConflictError, NotFoundError } from '../../lib/errors';
import type { ShapeCheck } from './sandbox';
import { appendAudit, type Actor } from '../audit/audit-log';
import { workspaceIdOf, type WorkspaceRef } from '../access/users';
import { getContainer } from './containers';
import { scheduleStatsRollup } from './pattern-runs';
import type { Category, PatternConfig, PatternInput, PatternPatch } from './schemas';

export interface PatternStats {
  totalExecutions: number;
  successCount: number;
  failureCount: number;
  avgExecutionTime: number | null;
  lastExecuted: Date | null;
}

export interface Pattern {
  id: string;
  containerId: string;
  containerName: string;
  category: Category;
  name: string;
  description: string;
  isDefault: boolean;
  isActive: boolean;
  priority: number;
  version: number;
  versionId: string;
  config: PatternConfig;
  code: string;
  stats: PatternStats;
  createdAt: Date;
  updatedAt: Date;
}

export interface PatternVersion {
  id: string;
  patternId: string;
  version: number;
  code: string;
  config: PatternConfig;
  note: string | null;
  restoredFrom: number | null;
  createdBy: string;
  createdAt: Date;
  stats: PatternStats;
}

/** Checks code against the pattern contract (the sandbox pool's `check`). */
export type CodeChecker = (code: string) => Promise<ShapeCheck>;

export class InvalidCodeError extends AppError {
  constructor(message: string, position?: { line: number; column: number }) {
    super(400, 'invalid_code', position ? `${message} (line ${position.line}, column ${position.column})` : message, position ? { ...position } : undefined);
  }
}

// Statistics columns from the live statistics row aliased `st` (db/migrations/0005_pattern_stats.sql:
// the rollup plus runs not yet rolled up), joined beside a pattern or one version; absent means never run.
const statsColumns = (sql: TxSql) => sql`
  coalesce(st.total_executions, 0)::float8 as "totalExecutions", coalesce(st.success_count, 0)::float8 as "successCount",
  coalesce(st.failure_count, 0)::float8 as "failureCount", coalesce(st.total_duration_ms, 0) as "totalDurationMs",
  st.last_executed_at as "lastExecuted"`;

interface StatsRow {
  totalExecutions: number;
  successCount: number;
  failureCount: number;
  totalDurationMs: number;
  lastExecuted: Date | null;
}

function withStats<T>(row: T & StatsRow): T & { stats: PatternStats } {
  const { totalExecutions, successCount, failureCount, totalDurationMs, lastExecuted, ...rest } = row;
  const avg = totalExecutions > 0 ? Math.round((totalDurationMs / totalExecutions) * 100) / 100 : null;
  return { ...(rest as T), stats: { totalExecutions, successCount, failureCount, avgExecutionTime: avg, lastExecuted } };
}

const patternColumns = (sql: TxSql) => sql`
  s.id, s.container_id as "containerId", c.name as "containerName", c.category, s.name, s.description,
  s.is_default as "isDefault", s.is_active as "isActive", s.priority, v.version, v.id as "versionId", v.config, v.code,
  ${statsColumns(sql)}, s.created_at as "createdAt", s.updated_at as "updatedAt"`;

const fromPatterns = (sql: TxSql) => sql`
  from patterns s join containers c on c.id = s.container_id join pattern_versions v on v.id = s.current_version_id
  left join pattern_live_stats st on st.pattern_id = s.id`;

// Versions of a pattern of the workspace: a version belongs to its pattern's workspace.
const fromVersions = (sql: TxSql, ws?: WorkspaceRef) => sql`
  from pattern_versions s
  join patterns p on p.id = s.pattern_id and p.workspace_id = ${workspaceIdOf(sql, ws)}
  left join pattern_version_live_stats st on st.version_id = s.id and st.pattern_id = s.pattern_id`;

const versionColumns = (sql: TxSql) => sql`
  s.id, s.pattern_id as "patternId", s.version, s.code, s.config, s.note, s.restored_from as "restoredFrom",
  s.created_by as "createdBy", s.created_at as "createdAt", ${statsColumns(sql)}`;

type PatternRow = Omit<Pattern, 'stats'> & StatsRow;
type VersionRow = Omit<PatternVersion, 'stats'> & StatsRow;

export async function listPatterns(
  sql: TxSql,
  q: { containerId?: string; category?: Category; active?: boolean; q?: string; limit: number; offset: number },
  ws?: WorkspaceRef,
): Promise<{ items: Pattern[]; total: number }> {
  const where = sql`
    where s.workspace_id = ${workspaceIdOf(sql, ws)}
      ${q.containerId ? sql`and s.container_id = ${q.containerId}` : sql``}
      ${q.category ? sql`and c.category = ${q.category}` : sql``}
      ${q.active !== undefined ? sql`and s.is_active = ${q.active}` : sql``}
      ${q.q ? sql`and s.name ilike ${'%' + q.q.replace(/[%_\\]/g, '\\$&') + '%'}` : sql``}`;
  const items = await sql<PatternRow[]>`
    select ${patternColumns(sql)} ${fromPatterns(sql)} ${where}
    order by lower(c.name), s.is_default desc, s.priority desc, lower(s.name)
    limit ${q.limit} offset ${q.offset}`;
  const [{ total }] = (await sql`select count(*)::int as total ${fromPatterns(sql)} ${where}`) as [{ total: number }];
  scheduleStatsRollup(sql);
  return { items: items.map((r) => withStats(r)), total };
}

export async function getPattern(sql: TxSql, id: string, ws?: WorkspaceRef): Promise<Pattern> {
  const [row] = await sql<PatternRow[]>`
    select ${patternColumns(sql)} ${fromPatterns(sql)} where s.id = ${id} and s.workspace_id = ${workspaceIdOf(sql, ws)}`;
  if (!row) throw new NotFoundError('Pattern');
  return withStats(row);
}

async function assertValidCode(check: CodeChecker, code: string): Promise<void> {
  const result = await check(code);
  if (!result.ok) throw new InvalidCodeError(result.message, result.position);
}

async function insertVersion(
  tx: TxSql,
  p: { patternId: string; code: string; config: PatternConfig; note?: string | null; restoredFrom?: number | null; actor: Actor },
): Promise<{ id: string; version: number }> {
  const [row] = await tx<{ id: string; version: number }[]>`
    insert into pattern_versions (pattern_id, version, code, config, note, restored_from, created_by)
    values (${p.patternId},
            (select coalesce(max(version), 0) + 1 from pattern_versions where pattern_id = ${p.patternId}),
            ${p.code}, ${tx.json(p.config)}, ${p.note ?? null}, ${p.restoredFrom ?? null}, ${p.actor.name})
    returning id, version`;
  await tx`update patterns set current_version_id = ${row!.id}, updated_at = now() where id = ${p.patternId}`;
  return row!;
}

/** Locks the workspace's pattern for a change; any other id is not found. */
async function lockPattern(tx: TxSql, id: string, ws?: WorkspaceRef): Promise<void> {
  const [locked] = await tx`select id from patterns where id = ${id} and workspace_id = ${workspaceIdOf(tx, ws)} for update`;
  if (!locked) throw new NotFoundError('Pattern');
}

const uniqueMessage = (name: string) => ({ unique: `This container already has a pattern named "${name}", or already has a default pattern.` });

export async function createPattern(sql: Sql, input: PatternInput, actor: Actor, check: CodeChecker, ws?: WorkspaceRef): Promise<Pattern> {
  await assertValidCode(check, input.code);
  try {
    return await sql.begin(async (tx) => {
      await getContainer(tx, input.containerId, ws);
      await tx`select pg_advisory_xact_lock(hashtext(${input.containerId}))`;
      const [row] = await tx<{ id: string }[]>`
        insert into patterns (container_id, name, description, is_default, is_active, priority, workspace_id)
        values (${input.containerId}, ${input.name}, ${input.description}, ${input.isDefault}, ${input.isActive}, ${input.priority},
                ${workspaceIdOf(tx, ws)})
        returning id`;
      const v = await insertVersion(tx, { patternId: row!.id, code: input.code, config: input.config, note: input.note ?? 'created', actor });
      await appendAudit(tx, {
        actor, action: 'pattern.created', entityType: 'pattern', entityId: row!.id,
        details: { name: input.name, containerId: input.containerId, version: v.version, config: input.config }, workspaceId: ws?.id,
      });
      return getPattern(tx, row!.id, ws);
    });
  } catch (err) {
    rethrowConstraint(err, uniqueMessage(input.name));
  }
}

export async function updatePattern(
  sql: Sql, id: string, patch: PatternPatch, actor: Actor, check: CodeChecker, ws?: WorkspaceRef,
): Promise<Pattern> {
  if (patch.code !== undefined) await assertValidCode(check, patch.code);
  try {
    return await sql.begin(async (tx) => {
      await lockPattern(tx, id, ws);
      const before = await getPattern(tx, id, ws);
      const config = { ...before.config, ...patch.config };
      const codeChanged = patch.code !== undefined && patch.code !== before.code;
      const configChanged = JSON.stringify(config) !== JSON.stringify(before.config);
      await tx`
        update patterns set
          name = ${patch.name ?? before.name},
          description = ${patch.description ?? before.description},
          is_default = ${patch.isDefault ?? before.isDefault},
          is_active = ${patch.isActive ?? before.isActive},
          priority = ${patch.priority ?? before.priority},
          updated_at = now()
        where id = ${id}`;
      let version = before.version;
      if (codeChanged || configChanged) {
        version = (await insertVersion(tx, { patternId: id, code: patch.code ?? before.code, config, note: patch.note ?? null, actor })).version;
      }
      const { code: _code, ...rest } = patch;
      await appendAudit(tx, {
        actor, action: 'pattern.updated', entityType: 'pattern', entityId: id,
        details: { changes: rest, codeChanged, ...(version !== before.version ? { version: { from: before.version, to: version } } : {}) },
        workspaceId: ws?.id,
      });
      return getPattern(tx, id, ws);
    });
  } catch (err) {
    rethrowConstraint(err, uniqueMessage(patch.name ?? 'that name'));
  }
}

export async function listVersions(sql: TxSql, patternId: string, ws?: WorkspaceRef): Promise<PatternVersion[]> {
  await getPattern(sql, patternId, ws);
  const rows = await sql<VersionRow[]>`
    select ${versionColumns(sql)} ${fromVersions(sql, ws)} where s.pattern_id = ${patternId} order by s.version desc`;
  return rows.map((r) => withStats(r));
}

export async function getVersion(sql: TxSql, patternId: string, version: number, ws?: WorkspaceRef): Promise<PatternVersion> {
  const [row] = await sql<VersionRow[]>`
    select ${versionColumns(sql)} ${fromVersions(sql, ws)} where s.pattern_id = ${patternId} and s.version = ${version}`;
  if (!row) throw new NotFoundError(`Version ${version} of this pattern`);
  return withStats(row);
}

/** Makes an old version current again, as a new version (history only grows). */
export async function restoreVersion(sql: Sql, patternId: string, version: number, actor: Actor, ws?: WorkspaceRef): Promise<Pattern> {
  return sql.begin(async (tx) => {
    await lockPattern(tx, patternId, ws);
    const old = await getVersion(tx, patternId, version, ws);
    const created = await insertVersion(tx, { patternId, code: old.code, config: old.config, note: `restored from v${version}`, restoredFrom: version, actor });
    await appendAudit(tx, {
      actor, action: 'pattern.version_restored', entityType: 'pattern', entityId: patternId,
      details: { restoredFrom: version, version: created.version }, workspaceId: ws?.id,
    });
    return getPattern(tx, patternId, ws);
  });
}

/** Deletes a pattern no mission uses; otherwise names the missions that still do. */
export async function deletePattern(sql: Sql, id: string, actor: Actor, ws?: WorkspaceRef): Promise<void> {
  await sql.begin(async (tx) => {
    const pattern = await getPattern(tx, id, ws);
    const users = await tx<{ name: string }[]>`
      select distinct m.name from mission_tasks t join missions m on m.id = t.mission_id
      where t.pattern_id = ${id} order by m.name limit 5`;
    if (users.length) {
      throw new ConflictError(
        `Missions still use this pattern (${users.map((u) => u.name).join(', ')}). Change their tasks first, or deactivate the pattern instead.`,
        { missions: users.map((u) => u.name) },
      );
    }
    await tx`update patterns set current_version_id = null where id = ${id}`;
    await tx`delete from patterns where id = ${id}`;
    await appendAudit(tx, {
      actor, action: 'pattern.deleted', entityType: 'pattern', entityId: id, details: { name: pattern.name, lastVersion: pattern.version }, workspaceId: ws?.id,
    });
  });
}
