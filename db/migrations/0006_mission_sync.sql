-- PostgreSQL and Temporal are never written in one transaction: a change is
-- committed here first, with a marker saying what Temporal still has to catch
-- up on, then applied to Temporal after the commit, and again by the
-- reconciler (core/schedules/reconcile.ts) until it has been applied once.

-- One row per mission that has (or had) a schedule or a mission-level pause.
-- No foreign key: the row of a deleted mission stays until its schedule is deleted.
create table mission_sync (
  mission_id uuid primary key,
  -- The schedule (its existence, spec, action, policies, paused state) at this version
  -- is what Temporal must show; synced_version is the last version applied.
  schedule_version integer not null default 0,
  schedule_synced_version integer not null default 0,
  -- Temporal's paused state and note as last applied or seen, to tell a change made
  -- outside the app (the CLI, the Web UI) from the app's own.
  schedule_paused boolean,
  schedule_note text,
  -- The mission's open runs must be paused (mission paused) or resumed (mission active)
  -- once per version: a run resumed on its own afterwards stays resumed.
  runs_version integer not null default 0,
  runs_synced_version integer not null default 0,
  -- Who paused or resumed the mission last, and why: the runs' signals and the schedule's note.
  pause_actor_id uuid,
  pause_actor text,
  pause_reason text,
  attempts integer not null default 0,
  last_error text,
  retry_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index mission_sync_pending_idx on mission_sync (retry_at)
  where schedule_synced_version < schedule_version or runs_synced_version < runs_version;

-- Schedules made before this migration are applied once more, which records their state.
insert into mission_sync (mission_id, schedule_version)
select id, 1 from missions where schedule is not null;

-- A trigger delivery is recorded before its run starts; the reconciler starts a
-- recorded delivery whose run was never started, with the same workflow id.
alter table trigger_deliveries
  add column input jsonb,
  add column attempts integer not null default 0,
  add column last_error text,
  add column retry_at timestamptz not null default now(),
  add column given_up_at timestamptz;
-- Deliveries from before this migration carry no input: never start them again.
update trigger_deliveries set given_up_at = now(), last_error = 'recorded before migration 0006' where run_id is null;
create index trigger_deliveries_pending_idx on trigger_deliveries (retry_at) where run_id is null and given_up_at is null;

grant select, insert, update, delete on mission_sync to mission_control_app;
