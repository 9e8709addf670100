-- Patterns: containers of versioned JavaScript patterns, their runs and
-- statistics, and outbound attempts made through ctx.outbound.send.

create table containers (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text not null default '',
  category text not null check (category in ('fbm_flow', 'messaging', 'analytics', 'automation', 'custom')),
  is_active boolean not null default true,
  is_default boolean not null default false,
  priority integer not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index containers_name_key on containers (lower(name));
-- At most one default container per category.
create unique index containers_default_key on containers (category) where is_default;

create table patterns (
  id uuid primary key default gen_random_uuid(),
  container_id uuid not null references containers (id) on delete restrict,
  name text not null,
  description text not null default '',
  is_default boolean not null default false,
  is_active boolean not null default true,
  priority integer not null default 0,
  current_version_id uuid,
  total_executions bigint not null default 0,
  success_count bigint not null default 0,
  failure_count bigint not null default 0,
  total_duration_ms double precision not null default 0,
  last_executed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index patterns_name_key on patterns (container_id, lower(name));
-- At most one default pattern per container.
create unique index patterns_default_key on patterns (container_id) where is_default;
create index patterns_container_idx on patterns (container_id, priority desc);

create table pattern_versions (
  id uuid primary key default gen_random_uuid(),
  pattern_id uuid not null references patterns (id) on delete cascade,
  version integer not null,
  code text not null,
  config jsonb not null,
  note text,
  restored_from integer,
  created_by text not null,
  created_at timestamptz not null default now(),
  total_executions bigint not null default 0,
  success_count bigint not null default 0,
  failure_count bigint not null default 0,
  total_duration_ms double precision not null default 0,
  last_executed_at timestamptz,
  unique (pattern_id, version)
);

alter table patterns add constraint patterns_current_version_fk
  foreign key (current_version_id) references pattern_versions (id) deferrable initially deferred;

-- A version's code and config never change once written; only its statistics move.
create function pattern_versions_immutable() returns trigger language plpgsql as $$
begin
  if new.code is distinct from old.code or new.config is distinct from old.config
     or new.version is distinct from old.version or new.pattern_id is distinct from old.pattern_id then
    raise exception 'pattern versions are immutable; save a new version instead'
      using errcode = 'insufficient_privilege';
  end if;
  return new;
end $$;
create trigger pattern_versions_immutable before update on pattern_versions
  for each row execute function pattern_versions_immutable();

-- One row per execution of a pattern. execution_key makes recording
-- idempotent: an activity retried after its run was recorded records nothing new.
create table pattern_runs (
  id uuid primary key default gen_random_uuid(),
  execution_key text not null unique,
  pattern_id uuid references patterns (id) on delete set null,
  version_id uuid references pattern_versions (id) on delete set null,
  pattern_name text not null,
  version integer not null,
  source text not null check (source in ('inject', 'mission')),
  mission_id uuid,
  workflow_id text,
  task_id text,
  attempt integer not null default 1,
  status text not null check (status in ('succeeded', 'failed')),
  error_kind text,
  error_message text,
  output jsonb,
  logs jsonb not null default '[]'::jsonb,
  outbound jsonb not null default '[]'::jsonb,
  duration_ms double precision not null,
  actor text not null,
  finished_at timestamptz not null default now()
);
create index pattern_runs_pattern_idx on pattern_runs (pattern_id, finished_at desc);
create index pattern_runs_workflow_idx on pattern_runs (workflow_id, task_id);

create table outbound_messages (
  id uuid primary key default gen_random_uuid(),
  idempotency_key text not null unique,
  channel text not null,
  payload jsonb not null,
  status text not null check (status in ('dry_run', 'blocked', 'sent', 'failed')),
  response jsonb,
  error text,
  pattern_id uuid references patterns (id) on delete set null,
  execution_key text,
  created_at timestamptz not null default now()
);
create index outbound_messages_created_idx on outbound_messages (created_at desc);

grant select, insert, update, delete on containers, patterns, pattern_versions, pattern_runs, outbound_messages to mission_control_app;
