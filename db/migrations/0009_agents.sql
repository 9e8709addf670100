-- Agents (issue 11): kinds of agent (definitions, whose versions are immutable like patterns' versions),
-- the agents themselves and their tokens, versioned YAML configurations, commands with their results,
-- seed 003's run log, and the metrics agents report. Every row names its workspace, and every reference
-- carries it (composite keys), so nothing points across workspaces.

create table agent_definitions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 120),
  category text not null default 'custom' check (length(category) between 1 and 50),
  status text not null default 'draft' check (status in ('draft', 'active', 'deprecated')),
  current_version integer not null default 1,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id)
);
create unique index agent_definitions_name_key on agent_definitions (workspace_id, lower(name));

create table agent_definition_versions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  definition_id uuid not null,
  version integer not null check (version > 0),
  description text not null default '',
  capabilities text[] not null default '{}',
  -- [{ type, description, payloadSchema, role, timeoutMs }]: the commands an agent of this kind accepts
  commands jsonb not null default '[]',
  -- JSON Schema of a task's input, and seed 003's outputs and triggers
  inputs_schema jsonb not null default '{"type":"object"}',
  outputs_config jsonb not null default '[]',
  triggers_config jsonb not null default '[]',
  -- what a configuration's YAML must satisfy (JSON Schema)
  config_schema jsonb not null default '{"type":"object"}',
  note text,
  created_by text not null,
  created_at timestamptz not null default now(),
  unique (definition_id, version),
  unique (id, workspace_id),
  foreign key (definition_id, workspace_id) references agent_definitions (id, workspace_id) on delete cascade
);

create function agent_versions_immutable() returns trigger language plpgsql as $$
begin
  raise exception '% rows are immutable; save a new version instead', tg_table_name
    using errcode = 'integrity_constraint_violation';
end $$;
create trigger agent_definition_versions_immutable before update on agent_definition_versions
  for each row execute function agent_versions_immutable();

create table agent_configurations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  definition_id uuid not null,
  name text not null check (length(name) between 1 and 120),
  description text not null default '',
  status text not null default 'active' check (status in ('active', 'inactive', 'archived')),
  current_version integer not null default 1,
  last_run_status text check (last_run_status in ('idle', 'pending', 'running', 'success', 'error', 'cancelled')),
  last_run_at timestamptz,
  last_run_id uuid,
  last_run_output_preview text,
  created_by_user_id uuid references users (id) on delete set null,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id),
  foreign key (definition_id, workspace_id) references agent_definitions (id, workspace_id)
);
create unique index agent_configurations_name_key on agent_configurations (workspace_id, lower(name));

create table agent_configuration_versions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  configuration_id uuid not null,
  version integer not null check (version > 0),
  yaml_text text not null check (octet_length(yaml_text) <= 65536),
  effective jsonb not null,
  sha256 text not null,
  note text,
  created_by text not null,
  created_at timestamptz not null default now(),
  unique (configuration_id, version),
  unique (id, workspace_id),
  foreign key (configuration_id, workspace_id) references agent_configurations (id, workspace_id) on delete cascade
);
create trigger agent_configuration_versions_immutable before update on agent_configuration_versions
  for each row execute function agent_versions_immutable();

create table agents (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 120),
  definition_id uuid not null,
  -- http: speaks the protocol over HTTP; worker: a TypeScript agent that also runs a Temporal worker on its own queue
  kind text not null default 'http' check (kind in ('http', 'worker')),
  status text not null default 'OFFLINE' check (status in ('IDLE', 'RUNNING', 'PAUSED', 'BLOCKED', 'OFFLINE', 'ERROR')),
  status_seq integer not null default 0,
  status_changed_at timestamptz not null default now(),
  paused_at timestamptz,
  paused_by text,
  capabilities text[] not null default '{}',
  metadata jsonb not null default '{}',
  -- the agent's own software version, as it reports it
  version text,
  heartbeat_interval_ms integer not null default 10000 check (heartbeat_interval_ms between 1000 and 300000),
  last_heartbeat_at timestamptz,
  session_id uuid,
  -- the signing secret is derived from the instance key, the agent's id and this (rotating the token moves it on)
  signing_key_version integer not null default 1,
  current_task text,
  resource_usage jsonb not null default '{}',
  configuration_id uuid,
  config_version integer,
  config_applied_version integer,
  config_status text check (config_status in ('pending', 'applied', 'rejected')),
  config_message text,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (id, workspace_id),
  foreign key (definition_id, workspace_id) references agent_definitions (id, workspace_id),
  foreign key (configuration_id, workspace_id) references agent_configurations (id, workspace_id)
) with (fillfactor = 80);  -- heartbeats stay HOT updates: no index covers last_heartbeat_at
create unique index agents_name_key on agents (workspace_id, lower(name)) where deleted_at is null;
create index agents_workspace_idx on agents (workspace_id, status) where deleted_at is null;

create table agent_tokens (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  agent_id uuid not null,
  token_hash text not null unique,
  prefix text not null,
  created_by text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  foreign key (agent_id, workspace_id) references agents (id, workspace_id)
);
create index agent_tokens_agent_idx on agent_tokens (agent_id);

create table agent_commands (
  id uuid primary key,
  workspace_id uuid not null,
  agent_id uuid not null,
  type text not null check (type ~ '^[A-Z][A-Z0-9_]{0,63}$'),
  payload jsonb not null default '{}',
  -- signed once; every delivery sends these same bytes
  signed_body text not null,
  signature text not null,
  status text not null default 'queued' check (status in ('queued', 'delivered', 'succeeded', 'failed', 'timed_out', 'cancelled')),
  result jsonb,
  error jsonb,
  timeout_ms integer not null check (timeout_ms between 1000 and 86400000),
  requested_by text not null,
  source text not null check (source in ('api', 'ui', 'cli')),
  workflow_id text not null unique,
  -- the dispatching activity's task token while it waits for the agent (async completion)
  task_token bytea,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  delivered_at timestamptz,
  finished_at timestamptz,
  unique (id, workspace_id),
  foreign key (agent_id, workspace_id) references agents (id, workspace_id)
);
create index agent_commands_agent_idx on agent_commands (agent_id, created_at desc);
create index agent_commands_open_idx on agent_commands (agent_id) where status in ('queued', 'delivered');

-- A mission task's attempt on an agent, waiting for the agent's answer: the dispatching activity's task token
-- (async completion), the signed frame every delivery re-sends, and what came of it. Not a queue: Temporal holds
-- the work (the activity); a row exists once an attempt was dispatched.
create table agent_tasks (
  id uuid primary key,
  workspace_id uuid not null,
  agent_id uuid not null,
  -- <workflowId>/<runId>/<taskId>/<execSeq>/: every attempt of one execution of one task shares it
  key_prefix text not null,
  attempt integer not null,
  workflow_id text not null,
  mission_id uuid,
  task_id text not null,
  task_name text not null,
  task_order integer not null,
  exec_seq integer not null,
  requires_approval boolean not null default false,
  max_attempts integer not null,
  started_by text,
  signed_body text not null,
  signature text not null,
  status text not null default 'queued' check (status in ('queued', 'delivered', 'running', 'succeeded', 'failed', 'cancelled', 'lost')),
  task_token bytea,
  output_ref jsonb,
  error text,
  progress jsonb,
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  finished_at timestamptz,
  last_relayed_at timestamptz,
  expires_at timestamptz not null,
  unique (key_prefix, attempt),
  foreign key (agent_id, workspace_id) references agents (id, workspace_id)
);
create index agent_tasks_open_idx on agent_tasks (agent_id) where status in ('queued', 'delivered', 'running');
create index agent_tasks_prefix_idx on agent_tasks (key_prefix);

-- Missions and their tasks may run on agents: a mission's own agent (seed 004's agentId), and a task's runner.
-- `agent` is { selection: fixed|capability|mission, agentId?, capability?, definitionId?, timeoutSeconds, retryCount,
-- failureAction, heartbeatTimeoutSeconds }, checked by the app when saved and when a run's plan is built.
alter table missions add column agent_id uuid references agents (id);
alter table mission_tasks add column agent jsonb;

-- Seed 003's AgentRunLog: one row per command and per task attempt an agent ran.
create table agent_run_log (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  agent_id uuid not null,
  configuration_id uuid,
  run_id text not null unique,
  trigger_type text not null check (trigger_type in ('manual', 'schedule', 'webhook', 'command')),
  triggered_by text,
  status text not null default 'pending' check (status in ('pending', 'running', 'success', 'error', 'cancelled')),
  start_time timestamptz not null default now(),
  end_time timestamptz,
  input_params_snapshot jsonb,
  output_preview text,
  error_message text,
  command_id uuid,
  agent_task_id uuid,
  mission_id uuid,
  workflow_id text,
  task_name text,
  unique (id, workspace_id),
  foreign key (agent_id, workspace_id) references agents (id, workspace_id),
  foreign key (configuration_id, workspace_id) references agent_configurations (id, workspace_id)
);
create index agent_run_log_agent_idx on agent_run_log (agent_id, start_time desc);

-- One row per agent per minute: { name: { last, min, max, sum, count } }; older rows are deleted past the retention.
create table agent_metrics (
  workspace_id uuid not null,
  agent_id uuid not null,
  bucket timestamptz not null,
  stats jsonb not null,
  primary key (agent_id, bucket),
  foreign key (agent_id, workspace_id) references agents (id, workspace_id) on delete cascade
);
create index agent_metrics_bucket_idx on agent_metrics (bucket);

grant select, insert, update, delete on agent_definitions, agent_definition_versions, agent_configurations,
  agent_configuration_versions, agents, agent_tokens, agent_commands, agent_tasks, agent_run_log, agent_metrics to mission_control_app;
