-- The task board's work items (issue 12, seed 002's `tasks` and `task_events`): a piece of work in BACKLOG,
-- DOING, NEEDS_APPROVAL or DONE, optionally about a campaign, a lead, a draft, a mission run (and one of its
-- tasks) and assigned to an agent or a person. Every change to an item is a row of its timeline, never changed.
-- References carry the workspace (composite keys), so no item points across workspaces.

create table work_items (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  title text not null check (length(title) between 1 and 200),
  description text not null default '' check (length(description) <= 5000),
  board_column text not null default 'BACKLOG' check (board_column in ('BACKLOG', 'DOING', 'NEEDS_APPROVAL', 'DONE')),
  column_changed_at timestamptz not null default now(),
  priority text not null default 'medium' check (priority in ('low', 'medium', 'high', 'urgent')),
  campaign_id uuid,
  lead_id uuid,
  draft_id uuid,
  -- A mission run (its workflow id) and, optionally, the mission's task the item is about.
  workflow_id text check (length(workflow_id) <= 200),
  task_id uuid,
  agent_id uuid,
  assignee text check (length(assignee) <= 100),
  source_key text check (length(source_key) <= 200),
  created_by text not null,
  updated_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint work_items_task_of_run check (task_id is null or workflow_id is not null),
  unique (id, workspace_id),
  unique (workspace_id, source_key),
  foreign key (campaign_id, workspace_id) references campaigns (id, workspace_id),
  foreign key (lead_id, workspace_id) references leads (id, workspace_id),
  foreign key (draft_id, workspace_id) references drafts (id, workspace_id),
  foreign key (agent_id, workspace_id) references agents (id, workspace_id)
);
-- The board reads each column newest-moved first; the item lists filter by what an item is about.
create index work_items_column_idx on work_items (workspace_id, board_column, column_changed_at desc, id desc);
create index work_items_workspace_idx on work_items (workspace_id, created_at desc, id desc);
create index work_items_run_idx on work_items (workflow_id) where workflow_id is not null;
create index work_items_lead_idx on work_items (lead_id) where lead_id is not null;
create index work_items_draft_idx on work_items (draft_id) where draft_id is not null;

create table task_events (
  id bigserial primary key,
  work_item_id uuid not null,
  workspace_id uuid not null,
  at timestamptz not null default now(),
  actor text not null,
  actor_id uuid,
  kind text not null check (kind in ('created', 'moved', 'updated', 'note')),
  from_column text check (from_column in ('BACKLOG', 'DOING', 'NEEDS_APPROVAL', 'DONE')),
  to_column text check (to_column in ('BACKLOG', 'DOING', 'NEEDS_APPROVAL', 'DONE')),
  note text check (length(note) <= 5000),
  details jsonb not null default '{}',
  -- Writers that may retry (a pattern's note) pass a key: an entry with the same key is recorded once.
  idempotency_key text unique check (length(idempotency_key) <= 300),
  foreign key (work_item_id, workspace_id) references work_items (id, workspace_id)
);
create index task_events_item_idx on task_events (work_item_id, id);

create trigger task_events_immutable before update or delete on task_events
  for each row execute function outreach_append_only();
create trigger task_events_no_truncate before truncate on task_events
  for each statement execute function outreach_append_only();

grant select, insert, update on work_items to mission_control_app;
revoke update, delete, truncate on task_events from mission_control_app;
grant select, insert on task_events to mission_control_app;
grant usage, select on sequence task_events_id_seq to mission_control_app;
