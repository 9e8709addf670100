-- Scheduler records (issue 12, seed 002 §5): one row per firing of a mission's schedule, with its outcome.
-- A firing that started a run is keyed by the run's workflow id (written when the run loads its plan, moved on
-- when it ends); a firing Temporal skipped without starting anything (overlap, a missed catch-up window) is
-- keyed by the schedule, the schedule's creation time (Temporal's counters start again with a new schedule),
-- the counter and its number. Both keys are unique, so a retried activity or any number of replicas
-- reconciling at once write each firing once.
create table scheduler_runs (
  id bigserial primary key,
  workspace_id uuid not null references workspaces (id),
  -- No foreign key: a deleted mission's records stay, as its audit entries and events do.
  mission_id uuid not null,
  schedule_id text not null,
  -- The time the schedule meant the firing for; null for a skip Temporal counted without its time.
  scheduled_at timestamptz,
  started_at timestamptz,
  workflow_id text unique check (length(workflow_id) <= 200),
  status text not null check (status in ('started', 'completed', 'failed', 'cancelled', 'skipped')),
  skip_reason text check (skip_reason in ('overlap', 'paused', 'other')),
  skip_key text unique check (length(skip_key) <= 300),
  finished_at timestamptz,
  error text check (length(error) <= 2000),
  recorded_at timestamptz not null default now(),
  constraint scheduler_runs_keyed check (workflow_id is not null or skip_key is not null),
  constraint scheduler_runs_skip_reason check ((status = 'skipped') = (skip_reason is not null))
);
create index scheduler_runs_workspace_idx on scheduler_runs (workspace_id, id desc);
create index scheduler_runs_mission_idx on scheduler_runs (mission_id, id desc);
create index scheduler_runs_open_idx on scheduler_runs (mission_id) where status = 'started';

-- How many of each of Temporal's skip counters (per schedule incarnation) are recorded above. The row is locked
-- while new skips are written. A schedule created before these records began (settings
-- 'scheduler.records_since') starts from the count Temporal has when it is first seen: nobody knows when those
-- firings were.
create table scheduler_skip_counts (
  workspace_id uuid not null references workspaces (id),
  schedule_id text not null,
  schedule_created_at timestamptz not null,
  counter text not null check (counter in ('overlap_skipped', 'buffer_dropped', 'missed_catchup_window')),
  recorded bigint not null check (recorded >= 0),
  updated_at timestamptz not null default now(),
  primary key (schedule_id, schedule_created_at, counter)
);

-- When these records began: a schedule created before then may have skips counted from before.
insert into settings (key, value) values ('scheduler.records_since', to_jsonb(now())) on conflict (key) do nothing;

grant select, insert, update, delete on scheduler_runs, scheduler_skip_counts to mission_control_app;
grant usage, select on sequence scheduler_runs_id_seq to mission_control_app;
