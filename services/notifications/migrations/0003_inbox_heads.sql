-- One row per inbox, locked by each transaction that adds a notification to it: a recipient's
-- notifications then take their ids in commit order, so "every id after the last one shown" (what
-- a live stream and a Last-Event-ID reconnect ask for) never skips one that committed late.
create table inbox_heads (
  recipient_id bigint primary key,
  last_insert_at timestamptz not null
);
