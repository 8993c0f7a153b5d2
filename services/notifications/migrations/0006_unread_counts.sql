-- The unread count, read on every inbox view and pushed on every change, kept beside each inbox's
-- head by the database itself: statement triggers with transition tables add and subtract what
-- each insert, update and delete of notifications changes, in the same transaction, so the count
-- cannot drift from the rows whatever statement changes them (a bulk delete of a deleted user's
-- inbox included). Reading it is one row whatever the inbox holds; counting 100,000 unread rows
-- from the index took milliseconds (docs/benchmarks.md).
alter table inbox_heads add column unread bigint not null default 0;
-- No change to notifications may commit between the count below and the triggers (a replica still
-- running the code before this migration reads, unreads and deletes without touching inbox_heads):
-- held to the end of the migration's transaction. Inserts lock inbox_heads first, as here.
lock table notifications in share row exclusive mode;

insert into inbox_heads (recipient_id, last_insert_at, unread)
  select recipient_id, max(sent_at), count(*) filter (where read_at is null) from notifications group by recipient_id
  on conflict (recipient_id) do update set unread = excluded.unread;

-- The schema the migration ran in, whatever the session's search_path when it fires.
create function inbox_unread_added() returns trigger language plpgsql set search_path from current as $$
begin
  insert into inbox_heads (recipient_id, last_insert_at, unread)
    select recipient_id, now(), count(*) from added where read_at is null group by recipient_id
    on conflict (recipient_id) do update set unread = inbox_heads.unread + excluded.unread;
  return null;
end $$;

create function inbox_unread_changed() returns trigger language plpgsql set search_path from current as $$
begin
  update inbox_heads h set unread = h.unread + d.delta
    from (select n.recipient_id, sum((n.read_at is null)::int - (o.read_at is null)::int) as delta
          from changed_after n join changed_before o on o.id = n.id
          group by n.recipient_id) d
    where h.recipient_id = d.recipient_id and d.delta <> 0;
  return null;
end $$;

create function inbox_unread_removed() returns trigger language plpgsql set search_path from current as $$
begin
  update inbox_heads h set unread = h.unread - d.n
    from (select recipient_id, count(*) as n from removed where read_at is null group by recipient_id) d
    where h.recipient_id = d.recipient_id;
  return null;
end $$;

create trigger notifications_unread_added after insert on notifications
  referencing new table as added for each statement execute function inbox_unread_added();
create trigger notifications_unread_changed after update on notifications
  referencing old table as changed_before new table as changed_after for each statement execute function inbox_unread_changed();
create trigger notifications_unread_removed after delete on notifications
  referencing old table as removed for each statement execute function inbox_unread_removed();
