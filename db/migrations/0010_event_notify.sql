-- A statement that inserts no event notifies no one. A data-modifying CTE whose
-- insert selects nothing (a heartbeat that changed no status) still fires a
-- statement trigger, and each notification sends every process that serves the
-- stream to read the table again, for nothing.
create or replace function events_notify() returns trigger language plpgsql as $$
begin
  if exists (select 1 from inserted) then
    perform pg_notify('mc_events', '');
  end if;
  return null;
end $$;
drop trigger events_notify on events;
create trigger events_notify after insert on events referencing new table as inserted
  for each statement execute function events_notify();
