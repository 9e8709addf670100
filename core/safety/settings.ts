// Safety settings (seed 002), per workspace: a dry-run mode, on by default,
// and per-channel outbound toggles, off by default. Only admins change them;
// every change is audited. A caller that names no workspace means the default one.
import type { Sql, TxSql } from '../../db/sql';
import { appendAudit, type Actor } from '../audit/audit-log';
import { CHANNELS, type Channel } from '../patterns/schemas';

export interface SafetySettings {
  dryRun: boolean;
  channels: Record<Channel, boolean>;
}

export const DEFAULT_SAFETY: SafetySettings = {
  dryRun: true,
  channels: Object.fromEntries(CHANNELS.map((c) => [c, false])) as Record<Channel, boolean>,
};

/** The workspace a caller names, or the default one. */
const workspaceOf = (sql: TxSql, workspaceId?: string) => sql`coalesce(${workspaceId ?? null}::uuid, mc_default_workspace())`;

export async function getSafety(sql: TxSql, workspaceId?: string): Promise<SafetySettings> {
  const rows = await sql<{ key: string; value: unknown }[]>`
    select key, value from workspace_settings
    where workspace_id = ${workspaceOf(sql, workspaceId)} and key in ('safety.dry_run_mode', 'safety.channels')`;
  const dry = rows.find((r) => r.key === 'safety.dry_run_mode')?.value;
  const channels = (rows.find((r) => r.key === 'safety.channels')?.value ?? {}) as Partial<Record<Channel, boolean>>;
  return {
    dryRun: typeof dry === 'boolean' ? dry : DEFAULT_SAFETY.dryRun,
    channels: Object.fromEntries(CHANNELS.map((c) => [c, channels[c] === true])) as Record<Channel, boolean>,
  };
}

/** True when anything could reach the outside world: dry-run off and some channel on. */
export function isLive(s: SafetySettings): boolean {
  return !s.dryRun && CHANNELS.some((c) => s.channels[c]);
}

export function describeLive(s: SafetySettings): string {
  const on = CHANNELS.filter((c) => s.channels[c]);
  return `dry-run is off and ${on.join(', ')} ${on.length === 1 ? 'is' : 'are'} enabled`;
}

async function putSetting(tx: TxSql, workspaceId: string | undefined, key: string, value: unknown, actor: Actor) {
  await tx`
    insert into workspace_settings (workspace_id, key, value, updated_at, updated_by)
    values (${workspaceOf(tx, workspaceId)}, ${key}, ${tx.json(value as never)}, now(), ${actor.id})
    on conflict (workspace_id, key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`;
}

export async function setDryRun(sql: Sql, dryRun: boolean, actor: Actor, workspaceId?: string): Promise<SafetySettings> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727004)`;
    const before = await getSafety(tx, workspaceId);
    if (before.dryRun !== dryRun) {
      await putSetting(tx, workspaceId, 'safety.dry_run_mode', dryRun, actor);
      await appendAudit(tx, {
        actor, action: 'safety.dry_run.toggled', entityType: 'settings', entityId: 'safety', details: { from: before.dryRun, to: dryRun }, workspaceId,
      });
    }
    return getSafety(tx, workspaceId);
  });
}

export async function setChannel(sql: Sql, channel: Channel, enabled: boolean, actor: Actor, workspaceId?: string): Promise<SafetySettings> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727004)`;
    const before = await getSafety(tx, workspaceId);
    if (before.channels[channel] !== enabled) {
      const channels = { ...before.channels, [channel]: enabled };
      await putSetting(tx, workspaceId, 'safety.channels', channels, actor);
      await appendAudit(tx, {
        actor, action: 'safety.channel_toggled', entityType: 'settings', entityId: 'safety',
        details: { channel, from: before.channels[channel], to: enabled }, workspaceId,
      });
    }
    return getSafety(tx, workspaceId);
  });
}
