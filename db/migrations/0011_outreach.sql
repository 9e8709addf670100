-- The outreach pipeline (issue 12, seed 002): campaigns, the leads each campaign works, and the drafts written
-- for them, whose every content change is an immutable version and whose every approval decision is a row
-- that is never changed. Every row names its workspace and every reference carries it (composite keys), so
-- nothing points across workspaces; a draft's lead is of the draft's own campaign.

create table campaigns (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id),
  name text not null check (length(name) between 1 and 120),
  description text not null default '' check (length(description) <= 2000),
  status text not null default 'draft' check (status in ('draft', 'active', 'paused', 'archived')),
  channels text[] not null default '{}'
    check (channels <@ array['EMAIL', 'FACEBOOK', 'INSTAGRAM', 'LINKEDIN']::text[] and cardinality(channels) <= 4),
  activated_at timestamptz,
  created_by text not null,
  updated_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  deleted_at timestamptz,
  unique (id, workspace_id)
);
create unique index campaigns_name_key on campaigns (workspace_id, lower(name)) where deleted_at is null;
create index campaigns_workspace_idx on campaigns (workspace_id, created_at desc, id desc) where deleted_at is null;

create table leads (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  campaign_id uuid not null,
  name text not null check (length(name) between 1 and 200),
  company text check (length(company) <= 200),
  email text check (length(email) <= 320 and email like '%_@_%'),
  website text check (length(website) <= 500),
  linkedin text check (length(linkedin) <= 300),
  facebook text check (length(facebook) <= 300),
  instagram text check (length(instagram) <= 300),
  status text not null default 'NEW'
    check (status in ('NEW', 'ENRICHED', 'DRAFTED', 'APPROVED', 'CONTACTED', 'REPLIED', 'BOOKED', 'LOST')),
  status_changed_at timestamptz not null default now(),
  score text check (score in ('A', 'B', 'C')),
  -- An admin's override wins over the computed score (seed 002); it always says why.
  score_override text check (score_override in ('A', 'B', 'C')),
  score_override_reason text check (length(score_override_reason) <= 500),
  score_overridden_by text,
  score_overridden_at timestamptz,
  notes text not null default '' check (length(notes) <= 5000),
  -- Whoever creates leads by rule (a pattern, an agent) names each one: the same key is the same lead.
  source_key text check (length(source_key) between 1 and 200),
  created_by text not null,
  updated_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint leads_override_reason check (score_override is null or coalesce(length(btrim(score_override_reason)), 0) > 0),
  unique (id, workspace_id),
  unique (id, campaign_id, workspace_id),
  unique (workspace_id, source_key),
  foreign key (campaign_id, workspace_id) references campaigns (id, workspace_id)
);
create index leads_workspace_idx on leads (workspace_id, created_at desc, id desc);
create index leads_campaign_idx on leads (campaign_id, status);

create table drafts (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  campaign_id uuid not null,
  lead_id uuid,
  channel text not null check (channel in ('EMAIL', 'FACEBOOK', 'INSTAGRAM', 'LINKEDIN')),
  subject text check (length(subject) <= 300),
  body text not null check (length(body) between 1 and 20000),
  status text not null default 'DRAFT' check (status in ('DRAFT', 'NEEDS_APPROVAL', 'APPROVED', 'REJECTED')),
  current_version integer not null default 1 check (current_version > 0),
  -- The mission run and task that wrote it, when one did (linked later by the workflow integration).
  run_workflow_id text check (length(run_workflow_id) <= 200),
  run_task_id text check (length(run_task_id) <= 200),
  source_key text check (length(source_key) between 1 and 200),
  created_by text not null,
  updated_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, workspace_id),
  unique (workspace_id, source_key),
  foreign key (campaign_id, workspace_id) references campaigns (id, workspace_id),
  -- A lead, when there is one, of the draft's own campaign (MATCH SIMPLE: no lead, nothing checked).
  foreign key (lead_id, campaign_id, workspace_id) references leads (id, campaign_id, workspace_id)
);
create index drafts_workspace_idx on drafts (workspace_id, created_at desc, id desc);
create index drafts_campaign_idx on drafts (campaign_id, status);
create index drafts_lead_idx on drafts (lead_id) where lead_id is not null;
-- A task's approval gate decides the drafts it wrote (core/outreach/gate.ts).
create index drafts_run_idx on drafts (run_workflow_id, run_task_id) where run_workflow_id is not null;

create table draft_versions (
  workspace_id uuid not null,
  draft_id uuid not null,
  version integer not null check (version > 0),
  subject text check (length(subject) <= 300),
  body text not null check (length(body) between 1 and 20000),
  note text check (length(note) <= 500),
  author text not null,
  created_at timestamptz not null default now(),
  primary key (draft_id, version),
  foreign key (draft_id, workspace_id) references drafts (id, workspace_id)
);

-- Seed 002's approvals: one row per decision on a draft, naming the version decided.
create table draft_decisions (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  draft_id uuid not null,
  version integer not null,
  action text not null check (action in ('APPROVE', 'REJECT', 'REQUEST_CHANGES', 'EDIT_INLINE_APPROVE', 'APPROVE_WITH_NOTES')),
  notes text check (length(notes) <= 5000),
  actor text not null,
  actor_id uuid,
  at timestamptz not null default now(),
  constraint draft_decisions_notes check (action not in ('REQUEST_CHANGES', 'APPROVE_WITH_NOTES') or coalesce(length(btrim(notes)), 0) > 0),
  foreign key (draft_id, workspace_id) references drafts (id, workspace_id),
  foreign key (draft_id, version) references draft_versions (draft_id, version)
);
create index draft_decisions_draft_idx on draft_decisions (draft_id, at);

create function outreach_append_only() returns trigger language plpgsql as $$
begin
  raise exception '% rows are append-only: % is not allowed', tg_table_name, tg_op
    using errcode = 'integrity_constraint_violation';
end $$;
create trigger draft_versions_immutable before update or delete on draft_versions
  for each row execute function outreach_append_only();
create trigger draft_versions_no_truncate before truncate on draft_versions
  for each statement execute function outreach_append_only();
create trigger draft_decisions_immutable before update or delete on draft_decisions
  for each row execute function outreach_append_only();
create trigger draft_decisions_no_truncate before truncate on draft_decisions
  for each statement execute function outreach_append_only();

grant select, insert, update, delete on campaigns, leads, drafts to mission_control_app;
-- The default privileges granted more; versions and decisions are only ever read and appended.
revoke update, delete, truncate on draft_versions, draft_decisions from mission_control_app;
grant select, insert on draft_versions, draft_decisions to mission_control_app;
