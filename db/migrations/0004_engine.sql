-- The engine at scale: task outputs stored once and passed by reference,
-- Temporal payloads too large for history kept here (the SDK's external
-- storage), and outbound sends recorded before they go out.

-- The output of one execution of a task (or a reviewer's edit of it). Runs
-- carry only the reference; the activity that needs an output reads it here.
create table task_outputs (
  workflow_id text not null,
  -- <run id>/<task id>/<execution>[/edited], unique within the workflow id
  ref text not null,
  task_id text not null,
  task_name text not null,
  task_order integer not null,
  output jsonb,
  bytes integer not null,
  created_at timestamptz not null default now(),
  primary key (workflow_id, ref)
);
create index task_outputs_task_idx on task_outputs (workflow_id, task_order, task_id, created_at desc);

-- Payloads the Temporal SDK offloads from history (externalStorage on the data
-- converter). Content-addressed: storing the same payload twice keeps one row.
create table temporal_payloads (
  id text primary key,
  metadata jsonb not null,
  data bytea not null,
  created_at timestamptz not null default now()
);

-- An outbound send is recorded as pending before it goes out, then settled as
-- sent or failed; a send found pending after a crash goes out again with the
-- same idempotency key, which the receiver uses to apply it once.
alter table outbound_messages drop constraint outbound_messages_status_check;
alter table outbound_messages add constraint outbound_messages_status_check
  check (status in ('pending', 'dry_run', 'blocked', 'sent', 'failed'));
alter table outbound_messages add column attempts integer not null default 0;
alter table outbound_messages add column updated_at timestamptz not null default now();

grant select, insert, update, delete on task_outputs, temporal_payloads to mission_control_app;
