-- Foundation: the application role, people and access, settings, rate limits
-- and the append-only, hash-chained audit log.

-- The application connects as this role (see db/sql.ts). It owns nothing, so
-- it cannot alter tables, disable triggers or escape the grants below.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'mission_control_app') then
    create role mission_control_app nologin;
  end if;
exception when duplicate_object or unique_violation then
  null; -- another database on this cluster created it at the same moment
end $$;

grant usage on schema public to mission_control_app;
alter default privileges in schema public grant select, insert, update, delete on tables to mission_control_app;
alter default privileges in schema public grant usage, select on sequences to mission_control_app;

create table users (
  id uuid primary key default gen_random_uuid(),
  username text not null,
  display_name text,
  password_hash text,
  role text not null check (role in ('ADMIN', 'OPERATOR', 'VIEWER')),
  disabled boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_username_key on users (lower(username));

create table sessions (
  id_hash text primary key,
  user_id uuid not null references users (id) on delete cascade,
  csrf_token text not null,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index sessions_user_idx on sessions (user_id);

create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  name text not null,
  token_hash text not null unique,
  prefix text not null,
  created_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked_at timestamptz
);
create index api_tokens_user_idx on api_tokens (user_id);

create table settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now(),
  updated_by uuid references users (id) on delete set null
);

create table rate_limits (
  key text not null,
  window_start timestamptz not null,
  count integer not null default 0,
  primary key (key, window_start)
);

-- Audit: append-only and hash-chained. Ids are assigned under a lock inside
-- the inserting transaction, so the chain has no gaps and no forks; each row's
-- hash covers its content and the previous row's hash.
create table audit_log (
  id bigint primary key,
  at timestamptz not null,
  actor text not null,
  actor_id uuid,
  action text not null,
  entity_type text not null,
  entity_id text,
  details jsonb not null default '{}'::jsonb,
  prev_hash text not null,
  hash text not null,
  -- Set by writers that may retry (workflow activities): the same key records once.
  idempotency_key text unique
);
create index audit_log_action_idx on audit_log (action, id);
create index audit_log_entity_idx on audit_log (entity_type, entity_id, id);
create index audit_log_actor_idx on audit_log (actor, id);

create function audit_row_hash(prev_hash text, id bigint, at timestamptz, actor text, actor_id uuid,
                               action text, entity_type text, entity_id text, details jsonb)
returns text language sql immutable as $$
  select encode(sha256(convert_to(prev_hash || jsonb_build_array(
    id, to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    actor, actor_id, action, entity_type, entity_id, details)::text, 'UTF8')), 'hex')
$$;

create function audit_log_chain() returns trigger language plpgsql as $$
declare
  last record;
begin
  perform pg_advisory_xact_lock(727002);
  select a.id, a.hash into last from audit_log a order by a.id desc limit 1;
  new.id := coalesce(last.id, 0) + 1;
  new.at := now();
  new.prev_hash := coalesce(last.hash, '');
  new.details := coalesce(new.details, '{}'::jsonb);
  new.hash := audit_row_hash(new.prev_hash, new.id, new.at, new.actor, new.actor_id,
                             new.action, new.entity_type, new.entity_id, new.details);
  return new;
end $$;

create function audit_log_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is not allowed', tg_op
    using errcode = 'insufficient_privilege';
end $$;

create trigger audit_log_chain before insert on audit_log
  for each row execute function audit_log_chain();
create trigger audit_log_no_update before update or delete on audit_log
  for each row execute function audit_log_immutable();
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_immutable();

-- Walks the chain in order; names the first row whose position, link or hash is wrong.
create function audit_verify(out ok boolean, out checked bigint, out broken_id bigint, out reason text)
language plpgsql stable as $$
declare
  r record;
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
    if r.hash <> audit_row_hash(r.prev_hash, r.id, r.at, r.actor, r.actor_id, r.action,
                                r.entity_type, r.entity_id, r.details) then
      ok := false; broken_id := r.id; reason := 'content does not match its hash'; return;
    end if;
    expected_prev := r.hash; expected_id := r.id + 1; checked := checked + 1;
  end loop;
end $$;

grant select, insert, update, delete on users, sessions, api_tokens, settings, rate_limits to mission_control_app;
grant select, insert on audit_log to mission_control_app;
revoke update, delete, truncate on audit_log from mission_control_app;
