-- The unread count is read on every inbox view: counted from an index of unread rows only.
create index notifications_unread on notifications (recipient_id) where read_at is null;
