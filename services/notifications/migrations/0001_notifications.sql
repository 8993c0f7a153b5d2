create table notifications (
  id bigint generated always as identity primary key,
  recipient_id bigint not null,
  type text not null,
  title text,
  message text not null,
  data jsonb not null default '{}',
  sent_at timestamptz not null default now(),
  read_at timestamptz
);
create index notifications_recipient on notifications (recipient_id, id desc);
