// Safety settings (seed 002): a global dry-run mode, on by default, and
// per-channel outbound toggles, off by default. Only admins change them;
// every change is audited.
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

export async function getSafety(sql: TxSql): Promise<SafetySettings> {
  const rows = await sql<{ key: string; value: unknown }[]>`
    select key, value from settings where key in ('safety.dry_run_mode', 'safety.channels')`;
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

export async function setDryRun(sql: Sql, dryRun: boolean, actor: Actor): Promise<SafetySettings> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727004)`;
    const before = await getSafety(tx);
    if (before.dryRun !== dryRun) {
      await tx`
        insert into settings (key, value, updated_at, updated_by) values ('safety.dry_run_mode', ${tx.json(dryRun)}, now(), ${actor.id})
        on conflict (key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`;
      await appendAudit(tx, { actor, action: 'safety.dry_run.toggled', entityType: 'settings', entityId: 'safety', details: { from: before.dryRun, to: dryRun } });
    }
    return getSafety(tx);
  });
}

export async function setChannel(sql: Sql, channel: Channel, enabled: boolean, actor: Actor): Promise<SafetySettings> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(727004)`;
    const before = await getSafety(tx);
    if (before.channels[channel] !== enabled) {
      const channels = { ...before.channels, [channel]: enabled };
      await tx`
        insert into settings (key, value, updated_at, updated_by) values ('safety.channels', ${tx.json(channels)}, now(), ${actor.id})
        on conflict (key) do update set value = excluded.value, updated_at = now(), updated_by = excluded.updated_by`;
      await appendAudit(tx, { actor, action: 'safety.channel_toggled', entityType: 'settings', entityId: 'safety', details: { channel, from: before.channels[channel], to: enabled } });
    }
    return getSafety(tx);
  });
}
