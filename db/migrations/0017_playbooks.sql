-- Playbooks (issue 13, seed 003's Playbook { trigger_event_type, steps, is_active }): an event of a type starts a
-- mission (its tasks are the playbook's steps) with the event as its input, exactly once per event: the run's
-- workflow id ends with the event's id and the playbook's, so Temporal itself refuses a second start.

create table playbooks (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 120),
  description text not null default '' check (length(description) <= 2000),
  -- An event type (agent.reported.sync.failed), or a prefix of types ending in a dot (alert.).
  trigger_event_type text not null check (trigger_event_type ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*\.?$' and length(trigger_event_type) <= 120),
  mission_id uuid not null references missions (id) on delete cascade,
  is_active boolean not null default true,
  created_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index playbooks_name_key on playbooks (workspace_id, lower(name));
create index playbooks_active_idx on playbooks (workspace_id) where is_active;

-- Where the playbook runner is in the event stream: it starts after the events already there.
insert into settings (key, value)
select 'playbooks.cursor', jsonb_build_object('after', coalesce(max(id), 0)) from events
on conflict (key) do nothing;

grant select, insert, update, delete on playbooks to mission_control_app;
