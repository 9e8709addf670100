-- Missions: plans of ordered tasks over a container. Runs live in Temporal;
-- PostgreSQL keeps the definitions, trigger deliveries and alerts.

create table missions (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text not null default '',
  type text not null check (type in ('manual', 'scheduled', 'triggered')),
  priority text not null default 'medium' check (priority in ('low', 'medium', 'high', 'urgent')),
  status text not null default 'draft' check (status in ('draft', 'active', 'paused')),
  container_id uuid not null references containers (id) on delete restrict,
  config jsonb not null,
  schedule jsonb,
  trigger_secret text,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index missions_name_key on missions (lower(name));
create index missions_container_idx on missions (container_id);

create table mission_tasks (
  id uuid primary key default gen_random_uuid(),
  mission_id uuid not null references missions (id) on delete cascade,
  name text not null,
  task_order integer not null,
  selection text not null check (selection in ('fixed', 'default_first', 'random', 'success_weighted')),
  pattern_id uuid references patterns (id) on delete restrict,
  input jsonb not null default '{}'::jsonb,
  requires_approval boolean not null default false,
  approval_timeout_seconds integer,
  created_at timestamptz not null default now(),
  check ((selection = 'fixed') = (pattern_id is not null))
);
create index mission_tasks_mission_idx on mission_tasks (mission_id, task_order);
create index mission_tasks_pattern_idx on mission_tasks (pattern_id);

-- A trigger's idempotency key starts at most one run.
create table trigger_deliveries (
  mission_id uuid not null references missions (id) on delete cascade,
  idempotency_key text not null,
  workflow_id text not null,
  run_id text,
  created_at timestamptz not null default now(),
  primary key (mission_id, idempotency_key)
);

create table alerts (
  id uuid primary key default gen_random_uuid(),
  idempotency_key text not null unique,
  mission_id uuid references missions (id) on delete set null,
  workflow_id text,
  kind text not null,
  message text not null,
  created_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  acknowledged_by text
);
create index alerts_open_idx on alerts (created_at desc) where acknowledged_at is null;

grant select, insert, update, delete on missions, mission_tasks, trigger_deliveries, alerts to mission_control_app;
