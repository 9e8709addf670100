-- Working together (issue 13): comments on missions, runs, tasks and agents (seed 004's NOTE, SYSTEM, ERROR,
-- WARNING, SUCCESS), and each member's notifications with their preferences (seed 003). Everything names its
-- workspace; references carry it where the referent has a workspace key.

create table comments (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  type text not null default 'NOTE' check (type in ('NOTE', 'SYSTEM', 'ERROR', 'WARNING', 'SUCCESS')),
  content text not null check (length(content) between 1 and 10000),
  -- What it is about. No foreign key to missions: a deleted mission's comments stay, as its audit entries do.
  mission_id uuid,
  workflow_id text check (length(workflow_id) <= 200),
  task_id uuid,
  agent_id uuid,
  author text not null check (length(author) <= 200),
  author_id uuid,
  -- The members it mentions (@username), as written when it was saved.
  mentions text[] not null default '{}' check (cardinality(mentions) <= 50),
  metadata jsonb not null default '{}',
  -- The engine writes its SYSTEM comments under a key: a retried writer records each once.
  idempotency_key text unique check (length(idempotency_key) <= 300),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint comments_about check (mission_id is not null or workflow_id is not null or agent_id is not null),
  constraint comments_task_of_run check (task_id is null or workflow_id is not null),
  foreign key (agent_id, workspace_id) references agents (id, workspace_id)
);
create index comments_workspace_idx on comments (workspace_id, created_at desc, id desc);
create index comments_mission_idx on comments (mission_id, created_at desc) where mission_id is not null;
create index comments_run_idx on comments (workflow_id, created_at desc) where workflow_id is not null;
create index comments_agent_idx on comments (agent_id, created_at desc) where agent_id is not null;

create table notifications (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  user_id uuid not null references users (id) on delete cascade,
  kind text not null check (kind in ('approval', 'run_failed', 'agent_offline', 'mention', 'alert')),
  title text not null check (length(title) <= 300),
  body text not null default '' check (length(body) <= 2000),
  href text check (length(href) <= 500),
  -- What it was made from (an event, a comment): one notification per user and source, however often it is seen.
  source_key text not null check (length(source_key) <= 300),
  created_at timestamptz not null default now(),
  read_at timestamptz,
  -- 'pending' while its email (the member asked for one) is not yet handed to the outbound adapters.
  email_state text check (email_state in ('pending', 'done')),
  unique (user_id, source_key)
);
create index notifications_email_idx on notifications (created_at) where email_state = 'pending';
create index notifications_inbox_idx on notifications (user_id, workspace_id, created_at desc, id desc);
create index notifications_unread_idx on notifications (user_id, workspace_id) where read_at is null;

-- A member's choices per workspace: kinds they do not want at all, kinds also sent by email, and the address.
create table notification_preferences (
  workspace_id uuid not null references workspaces (id),
  user_id uuid not null references users (id) on delete cascade,
  muted text[] not null default '{}',
  email_kinds text[] not null default '{}',
  email text check (length(email) <= 320 and email like '%_@_%'),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);

grant select, insert, update, delete on comments, notifications, notification_preferences to mission_control_app;

-- The notifier's place in the event stream: a database that had events before notifications existed starts
-- after them (its history notifies no one); a new one starts at the beginning.
insert into settings (key, value)
select 'notifier.cursor', jsonb_build_object('after', coalesce(max(id), 0)) from events
on conflict (key) do nothing;
