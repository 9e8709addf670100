-- The event stream (seed 002's envelope): one row per domain change, written
-- in the transaction that makes the change (an audited change writes its event
-- in the statement that appends the audit entry), so no event is lost and none
-- is invented.
--
-- Ids are given out like the audit log's (0001_init.sql): under the same
-- transaction lock, held until commit, as the last id plus one. So ids have no
-- gaps and follow commit order: a reader that asks for the events after the last
-- id it saw never skips one and never sees one twice.

create table events (
  id bigint primary key,
  type text not null,
  entity_type text not null,
  entity_id text,
  task_id text,
  mission_id uuid,
  -- the run's workflow id
  run_id text,
  at timestamptz not null default now(),
  actor text not null,
  payload jsonb not null default '{}'::jsonb,
  -- writers that may retry (activities) pass one: the event is recorded once
  idempotency_key text unique
);
create index events_type_idx on events (type text_pattern_ops, id);
create index events_entity_idx on events (entity_type, entity_id, id);
create index events_mission_idx on events (mission_id, id) where mission_id is not null;
create index events_run_idx on events (run_id, id) where run_id is not null;
create index events_at_idx on events (at);

create function events_order() returns trigger language plpgsql as $$
begin
  -- The audit chain's lock: one order for both, and no deadlock between them.
  perform pg_advisory_xact_lock(727002);
  new.id := coalesce((select e.id from events e order by e.id desc limit 1), 0) + 1;
  new.at := now();
  return new;
end $$;
create trigger events_order before insert on events for each row execute function events_order();

-- Every process that serves the stream LISTENs here; the notification (sent at
-- commit, once per transaction) only says "look again": the rows are the truth.
create function events_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('mc_events', '');
  return null;
end $$;
create trigger events_notify after insert on events for each statement execute function events_notify();

create function events_immutable() returns trigger language plpgsql as $$
begin
  raise exception 'events are append-only: % is not allowed', tg_op;
end $$;
create trigger events_no_update before update or delete on events for each row execute function events_immutable();

grant select, insert on events to mission_control_app;
revoke update, delete, truncate on events from mission_control_app;
