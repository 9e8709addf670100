-- Global pause (issue 12, seed 002's "pause flags"): one admin switch per workspace that
-- holds its runs, its schedules and its agents' dispatch. The switch itself is a safety
-- setting (workspace_settings, key 'safety.global_pause'); this table records what the
-- switch paused, so that resuming restores exactly that and nothing an operator paused.
--   kind 'run':      target_id is the run's workflow id; hold_reason is the pause reason it was
--                    given, so a run an operator re-paused with a reason of their own is left alone.
--   kind 'schedule': target_id is the mission id (the schedule is mission-<id>).
-- Rows are written before (or as) the pause is applied and deleted once the resume has been
-- applied, so a crash halfway leaves rows that the next enable or disable completes.
create table global_pause_holds (
  workspace_id uuid not null references workspaces (id),
  kind text not null check (kind in ('run', 'schedule')),
  target_id text not null,
  hold_reason text not null,
  held_at timestamptz not null default now(),
  primary key (workspace_id, kind, target_id)
);

grant select, insert, update, delete on global_pause_holds to mission_control_app;
