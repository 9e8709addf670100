-- Pattern statistics without a hot row. Counters on the patterns and
-- pattern_versions rows made every run of a pattern update the same two rows,
-- so parallel tasks of one pattern queued on them. Now a run appends a small
-- tally beside its pattern_runs row (same statement, only when the run is new),
-- and a rollup moves tallies into one row per pattern and per version, in
-- batches, off the runs' path (core/patterns/pattern-runs.ts). A tally is
-- deleted in the statement that adds it to the rollup, so each run counts once;
-- reads add the rollup and the tallies still waiting, so they are exact at once
-- and cost no more than the number of patterns, however many runs there are.

-- No foreign keys: a key check would lock the pattern's row again on every run.
-- Tallies of a deleted pattern are dropped by the rollup.
create table pattern_run_tallies (
  pattern_id uuid not null,
  version_id uuid not null,
  succeeded boolean not null,
  duration_ms double precision not null,
  finished_at timestamptz not null
);
create index pattern_run_tallies_pattern_idx on pattern_run_tallies (pattern_id);

-- Written only by the rollup.
create table pattern_stats (
  pattern_id uuid primary key references patterns (id) on delete cascade,
  total_executions bigint not null default 0,
  success_count bigint not null default 0,
  failure_count bigint not null default 0,
  total_duration_ms double precision not null default 0,
  last_executed_at timestamptz
);

create table pattern_version_stats (
  version_id uuid primary key references pattern_versions (id) on delete cascade,
  pattern_id uuid not null,
  total_executions bigint not null default 0,
  success_count bigint not null default 0,
  failure_count bigint not null default 0,
  total_duration_ms double precision not null default 0,
  last_executed_at timestamptz
);
create index pattern_version_stats_pattern_idx on pattern_version_stats (pattern_id);

-- What readers use: the rollup plus the tallies not yet rolled up, per pattern
-- and per version. A filter on pattern_id (or version_id) reaches the indexes of both sides.
create view pattern_live_stats as
  select pattern_id, sum(n)::bigint as total_executions, sum(s)::bigint as success_count, sum(f)::bigint as failure_count,
         sum(ms)::float8 as total_duration_ms, max(last) as last_executed_at
  from (
    select pattern_id, total_executions as n, success_count as s, failure_count as f, total_duration_ms as ms, last_executed_at as last
    from pattern_stats
    union all
    select pattern_id, 1, succeeded::int, (not succeeded)::int, duration_ms, finished_at from pattern_run_tallies
  ) t
  group by pattern_id;

create view pattern_version_live_stats as
  select version_id, pattern_id, sum(n)::bigint as total_executions, sum(s)::bigint as success_count, sum(f)::bigint as failure_count,
         sum(ms)::float8 as total_duration_ms, max(last) as last_executed_at
  from (
    select version_id, pattern_id, total_executions as n, success_count as s, failure_count as f, total_duration_ms as ms, last_executed_at as last
    from pattern_version_stats
    union all
    select version_id, pattern_id, 1, succeeded::int, (not succeeded)::int, duration_ms, finished_at from pattern_run_tallies
  ) t
  group by version_id, pattern_id;

-- The counters so far become the rollup's starting point, then go.
insert into pattern_stats (pattern_id, total_executions, success_count, failure_count, total_duration_ms, last_executed_at)
  select id, total_executions, success_count, failure_count, total_duration_ms, last_executed_at from patterns where total_executions > 0;
insert into pattern_version_stats (version_id, pattern_id, total_executions, success_count, failure_count, total_duration_ms, last_executed_at)
  select id, pattern_id, total_executions, success_count, failure_count, total_duration_ms, last_executed_at from pattern_versions where total_executions > 0;
alter table patterns
  drop column total_executions, drop column success_count, drop column failure_count,
  drop column total_duration_ms, drop column last_executed_at;
alter table pattern_versions
  drop column total_executions, drop column success_count, drop column failure_count,
  drop column total_duration_ms, drop column last_executed_at;

grant select, insert, update, delete on pattern_run_tallies, pattern_stats, pattern_version_stats to mission_control_app;
grant select on pattern_live_stats, pattern_version_live_stats to mission_control_app;
