// Where a run belongs, for its activities: its mission's workspace (which never changes), where
// everything it reads is read and everything it records is kept; and who a name in its history
// is there (their role in that workspace, none when they are not a member).
import type { Actor } from '../core/audit/audit-log';
import type { Sql } from '../db/sql';

/**
 * The workspace of a mission's runs, read once per mission (a failed read is tried again). A mission
 * removed since (its last events) is the default workspace's.
 */
export function missionWorkspaces(sql: Sql): (missionId: string) => Promise<string> {
  const workspaces = new Map<string, Promise<string>>();
  return (missionId) => {
    let found = workspaces.get(missionId);
    if (!found) {
      found = sql<{ id: string }[]>`select coalesce((select workspace_id from missions where id = ${missionId}), mc_default_workspace())::text as id`.then(([r]) => r!.id);
      found.catch(() => workspaces.delete(missionId));
      if (workspaces.size >= 1000) workspaces.clear();
      workspaces.set(missionId, found);
    }
    return found;
  };
}

/** The workspace of a container (runs started before missions were named in selectPattern's input). */
export async function containerWorkspace(sql: Sql, containerId: string): Promise<string> {
  const [row] = await sql<{ id: string }[]>`select coalesce((select workspace_id from containers where id = ${containerId}), mc_default_workspace())::text as id`;
  return row!.id;
}

/** The account named, with its role in the run's workspace (none when it is not a member there). */
export async function actorByName(sql: Sql, name: string, workspaceId: string): Promise<Actor & { role?: string | null; disabled?: boolean }> {
  const [u] = await sql<{ id: string; username: string; role: string | null; disabled: boolean }[]>`
    select u.id, u.username, m.role, u.disabled from users u
    left join memberships m on m.user_id = u.id and m.workspace_id = ${workspaceId}
    where lower(u.username) = lower(${name})`;
  return u ? { id: u.id, name: u.username, role: u.role, disabled: u.disabled } : { id: null, name };
}
