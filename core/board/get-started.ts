// What an empty board offers a new user: the scheduled missions already there
// (the five examples ship with their schedules paused), read from PostgreSQL,
// which keeps each schedule's definition and paused state with its mission.
import type { Sql } from '../../db/sql';
import type { ScheduleInput } from '../missions/schemas';
import { describeCron } from '../schedules/cron';
import { workspaceIdOf } from '../access/users';

export interface ScheduledMission {
  missionId: string;
  name: string;
  description: string;
  /** The cron in words, e.g. "At 09:00, every day". */
  when: string;
  timezone: string;
  paused: boolean;
}

const SHOWN = 8;

/** A workspace's first scheduled missions (oldest first, so the examples in their daily order) and how many there are. */
export async function loadScheduledMissions(sql: Sql, ws?: { id: string }): Promise<{ items: ScheduledMission[]; total: number }> {
  const rows = await sql<{ id: string; name: string; description: string; status: string; schedule: ScheduleInput; total: number }[]>`
    select id, name, description, status, schedule, count(*) over ()::int as total
    from missions
    where schedule is not null and workspace_id = ${workspaceIdOf(sql, ws)}
    order by created_at, name
    limit ${SHOWN}`;
  return {
    total: rows[0]?.total ?? 0,
    items: rows.map((r) => ({
      missionId: r.id, name: r.name, description: r.description,
      when: describeCron(r.schedule.cron), timezone: r.schedule.timezone ?? 'UTC',
      // A paused mission keeps its schedule paused too (core/schedules/sync.ts).
      paused: r.schedule.paused === true || r.status === 'paused',
    })),
  };
}
