-- Workspaces (seed 003): every record belongs to exactly one workspace, and a
-- user has a role in each workspace they are a member of (ADMIN, OPERATOR,
-- CLOSER, VIEWER: seed 002 adds the closer). Everything from before moves into
-- one default workspace, with nothing rewritten: a column added with a constant
-- default is read from the catalogue, so the audit log's and the events'
-- append-only triggers never fire and no hash changes.

create table workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(name) between 1 and 100),
  owner_user_id uuid references users (id) on delete set null,
  is_default boolean not null default false,
  archived_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- Names are not unique: a refused name would tell one team that another exists.
create unique index workspaces_default_key on workspaces ((true)) where is_default;

create table memberships (
  workspace_id uuid not null references workspaces (id),
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('ADMIN', 'OPERATOR', 'CLOSER', 'VIEWER')),
  invited_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
create index memberships_user_idx on memberships (user_id);

-- A workspace's own settings: safety (dry-run, channels) and seed 003's JSON settings.
create table workspace_settings (
  workspace_id uuid not null references workspaces (id),
  key text not null,
  value jsonb not null,
  updated_at timestamptz not null default now(),
  updated_by uuid references users (id) on delete set null,
  primary key (workspace_id, key)
);

-- The default workspace's id, for writers that do not name a workspace yet.
create function mc_default_workspace() returns uuid language sql stable as
  $$ select id from workspaces where is_default $$;

do $$
declare
  -- Random per database (test databases share one Temporal server).
  ws uuid := gen_random_uuid();
  t text;
begin
  insert into workspaces (id, name, is_default, owner_user_id)
  values (ws, 'Default', true, (select id from users where role = 'ADMIN' and not disabled order by created_at limit 1));
  foreach t in array array['containers', 'patterns', 'missions', 'alerts', 'events', 'audit_log',
                           'api_tokens', 'sessions', 'pattern_runs', 'outbound_messages', 'task_outputs'] loop
    execute format('alter table %I add column workspace_id uuid not null default %L references workspaces (id)', t, ws);
    execute format('alter table %I alter column workspace_id set default mc_default_workspace()', t);
  end loop;
  insert into memberships (workspace_id, user_id, role) select ws, id, role from users;
  insert into workspace_settings (workspace_id, key, value, updated_at, updated_by)
    select ws, key, value, updated_at, updated_by from settings where key like 'safety.%';
end $$;
delete from settings where key like 'safety.%';

-- Names are unique within a workspace.
drop index containers_name_key;
create unique index containers_name_key on containers (workspace_id, lower(name));
drop index containers_default_key;
create unique index containers_default_key on containers (workspace_id, category) where is_default;
drop index missions_name_key;
create unique index missions_name_key on missions (workspace_id, lower(name));
-- A pattern's and a mission's container is in their own workspace.
alter table containers add constraint containers_id_workspace_key unique (id, workspace_id);
alter table patterns add constraint patterns_container_workspace_fk
  foreign key (container_id, workspace_id) references containers (id, workspace_id);
alter table missions add constraint missions_container_workspace_fk
  foreign key (container_id, workspace_id) references containers (id, workspace_id);

-- A user's role is per workspace from now on (memberships); users.role is kept, readable, for a release.
alter table users alter column role drop not null;
alter table users drop constraint users_role_check;

create index containers_workspace_idx on containers (workspace_id);
create index patterns_workspace_idx on patterns (workspace_id);
create index missions_workspace_idx on missions (workspace_id);
create index alerts_workspace_idx on alerts (workspace_id, created_at desc);
create index events_workspace_idx on events (workspace_id, id);
create index audit_log_workspace_idx on audit_log (workspace_id, id);
create index api_tokens_workspace_idx on api_tokens (workspace_id);

-- Audit: still one chain over every entry (prev_hash), and now also one chain per
-- workspace (ws_seq, ws_prev_hash), so a workspace admin verifies their own
-- entries end to end without reading anyone else's. Entries from before are
-- hash version 1, all in the default workspace, where each one's place is its id.
alter table audit_log add column hash_version smallint not null default 1,
                      add column ws_seq bigint,
                      add column ws_prev_hash text;
alter table audit_log alter column hash_version set default 2;

create function audit_row_hash_v2(prev_hash text, id bigint, at timestamptz, actor text, actor_id uuid,
                                  action text, entity_type text, entity_id text, details jsonb,
                                  workspace_id uuid, ws_seq bigint, ws_prev_hash text)
returns text language sql immutable as $$
  select encode(sha256(convert_to(prev_hash || jsonb_build_array(
    id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    actor, actor_id, action, entity_type, entity_id, details, workspace_id, ws_seq, ws_prev_hash)::text, 'UTF8')), 'hex')
$$;

create function audit_entry_hash(r audit_log) returns text language sql immutable as $$
  select case when r.hash_version = 1
    then audit_row_hash(r.prev_hash, r.id, r.at, r.actor, r.actor_id, r.action, r.entity_type, r.entity_id, r.details)
    else audit_row_hash_v2(r.prev_hash, r.id, r.at, r.actor, r.actor_id, r.action, r.entity_type, r.entity_id,
                           r.details, r.workspace_id, r.ws_seq, r.ws_prev_hash) end
$$;

create or replace function audit_log_chain() returns trigger language plpgsql as $$
declare
  last record;
  mine record;
begin
  perform pg_advisory_xact_lock(727002);
  select a.id, a.hash into last from audit_log a order by a.id desc limit 1;
  select coalesce(a.ws_seq, a.id) as seq, a.hash into mine
    from audit_log a where a.workspace_id = new.workspace_id order by a.id desc limit 1;
  new.id := coalesce(last.id, 0) + 1;
  new.at := now();
  new.prev_hash := coalesce(last.hash, '');
  new.ws_seq := coalesce(mine.seq, 0) + 1;
  new.ws_prev_hash := coalesce(mine.hash, '');
  new.hash_version := 2;
  new.details := coalesce(new.details, '{}'::jsonb);
  new.hash := audit_entry_hash(new);
  return new;
end $$;

-- The whole chain, as before, over both hash versions.
create or replace function audit_verify(out ok boolean, out checked bigint, out broken_id bigint, out reason text)
language plpgsql stable as $$
declare
  r audit_log;
  expected_prev text := '';
  expected_id bigint := 1;
begin
  ok := true; checked := 0;
  for r in select * from audit_log order by id loop
    if r.id <> expected_id then
      ok := false; broken_id := r.id; reason := format('row %s is missing', expected_id); return;
    end if;
    if r.prev_hash <> expected_prev then
      ok := false; broken_id := r.id; reason := 'previous hash does not match'; return;
    end if;
    if r.hash <> audit_entry_hash(r) then
      ok := false; broken_id := r.id; reason := 'content does not match its hash'; return;
    end if;
    expected_prev := r.hash; expected_id := r.id + 1; checked := checked + 1;
  end loop;
end $$;

-- One workspace's entries: their own sequence and links, and every hash.
create function audit_verify_workspace(p_workspace uuid, out ok boolean, out checked bigint, out broken_id bigint, out reason text)
language plpgsql stable as $$
declare
  r audit_log;
  expected_prev text := '';
  expected_seq bigint := 1;
begin
  ok := true; checked := 0;
  for r in select * from audit_log where workspace_id = p_workspace order by id loop
    if coalesce(r.ws_seq, r.id) <> expected_seq then
      ok := false; broken_id := r.id; reason := format('entry %s of this workspace is missing', expected_seq); return;
    end if;
    if (case when r.hash_version = 1 then r.prev_hash else r.ws_prev_hash end) <> expected_prev then
      ok := false; broken_id := r.id; reason := 'previous hash does not match'; return;
    end if;
    if r.hash <> audit_entry_hash(r) then
      ok := false; broken_id := r.id; reason := 'content does not match its hash'; return;
    end if;
    expected_prev := r.hash; expected_seq := coalesce(r.ws_seq, r.id) + 1; checked := checked + 1;
  end loop;
end $$;

-- Schedules are rewritten once by the reconciler, so what they start carries the workspace.
update mission_sync set schedule_version = schedule_version + 1
  where mission_id in (select id from missions where schedule is not null);

grant select, insert, update, delete on workspaces, memberships, workspace_settings to mission_control_app;
