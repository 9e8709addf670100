-- Alerts as seed 001 has them (issue 13): a severity, a title, a message and actions (each a real operation),
-- raised by runs (failures, approval timeouts), by agents (over their connection) and by rules on agents'
-- metrics; acknowledged and resolved, each with who and when. A rule raises one alert per breach: an open
-- alert of a rule and an agent is unique until it is resolved.

alter table alerts
  add column severity text not null default 'error' check (severity in ('info', 'warning', 'error', 'critical')),
  add column title text check (length(title) <= 200),
  add column actions jsonb not null default '[]' check (jsonb_typeof(actions) = 'array' and jsonb_array_length(actions) <= 5),
  add column source text not null default 'run' check (source in ('run', 'agent', 'rule')),
  add column agent_id uuid,
  add column rule_id uuid,
  add column resolved_at timestamptz,
  add column resolved_by text;

create table alert_rules (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 120),
  -- A metric agents report (POST /api/agent/metrics), compared with the threshold on each sample.
  metric text not null check (metric ~ '^[A-Za-z0-9_.:-]{1,64}$'),
  comparison text not null check (comparison in ('<', '<=', '>', '>=')),
  threshold double precision not null,
  severity text not null default 'warning' check (severity in ('info', 'warning', 'error', 'critical')),
  -- One agent, or every agent of the workspace when null.
  agent_id uuid,
  active boolean not null default true,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id),
  foreign key (agent_id, workspace_id) references agents (id, workspace_id)
);
create unique index alert_rules_name_key on alert_rules (workspace_id, lower(name));
create index alert_rules_metric_idx on alert_rules (workspace_id, metric) where active;

create unique index alerts_rule_open_key on alerts (rule_id, agent_id) where rule_id is not null and resolved_at is null;
create index alerts_agent_idx on alerts (agent_id, created_at desc) where agent_id is not null;

grant select, insert, update, delete on alert_rules to mission_control_app;
