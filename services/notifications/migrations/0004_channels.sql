-- Channels beyond the inbox: preferences, devices, webhook endpoints, and one delivery record per
-- message and channel target, with its attempts (the delivery log).

-- Only what a user changed is stored; the catalogue of notification types gives the defaults.
create table preferences (
  user_id bigint not null,
  type text not null,
  channel text not null check (channel in ('in_app', 'email', 'push')),
  enabled boolean not null,
  updated_at timestamptz not null default now(),
  primary key (user_id, type, channel)
);

create table devices (
  id text primary key,
  user_id bigint not null,
  platform text not null check (platform in ('ios', 'android', 'web')),
  -- The FCM or APNs registration token, or a Web Push subscription's endpoint URL.
  token text not null,
  -- Web Push only: the subscription's p256dh and auth keys.
  keys jsonb,
  created_at timestamptz not null default now()
);
-- A token belongs to one device of one user: registering it again moves it (a phone changes hands).
create unique index devices_token on devices (platform, token);
create index devices_user on devices (user_id, created_at desc);

create table webhook_endpoints (
  id text primary key,
  owner_id bigint not null,
  -- Admin endpoints may receive every user's events (the operator's own backend).
  all_users boolean not null default false,
  url text not null,
  event_types text[] not null,
  description text,
  secret text not null,
  -- During a rotation the previous secret signs too, until it expires.
  previous_secret text,
  previous_secret_expires_at timestamptz,
  disabled boolean not null default false,
  created_at timestamptz not null default now()
);
create index webhook_endpoints_owner on webhook_endpoints (owner_id, created_at desc);
create index webhook_endpoints_all_users on webhook_endpoints (id) where all_users;

create table deliveries (
  id text primary key,
  recipient_id bigint not null,
  -- The inbox notification it came with, if the message has one (email-only messages do not).
  notification_id bigint,
  type text not null,
  channel text not null check (channel in ('email', 'push', 'webhook')),
  -- The device or the webhook endpoint (email: none; the address is looked up when sending).
  target_id text,
  -- What to send. Secrets (a reset link) are erased once the delivery is finished.
  payload jsonb,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'dead', 'canceled')),
  attempts integer not null default 0,
  -- A redelivery asked for through the API: one attempt, whatever the schedule has left.
  manual boolean not null default false,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  delivered_at timestamptz,
  seq bigint generated always as identity
);
-- The worker's queue: due pending deliveries, oldest first.
create index deliveries_due on deliveries (next_attempt_at) where status = 'pending';
create index deliveries_recipient on deliveries (recipient_id, seq desc);
create index deliveries_notification on deliveries (notification_id) where notification_id is not null;
create index deliveries_target on deliveries (target_id, seq desc) where target_id is not null;

create table delivery_attempts (
  delivery_id text not null references deliveries (id) on delete cascade,
  attempt integer not null,
  attempted_at timestamptz not null default now(),
  outcome text not null check (outcome in ('delivered', 'retry', 'failed', 'invalid_target', 'canceled')),
  status_code integer,
  error text,
  response text,
  duration_ms integer not null,
  primary key (delivery_id, attempt)
);
-- The dead-letter count is read at every metrics scrape.
create index deliveries_dead on deliveries (channel) where status = 'dead';

-- Users erased by user.deleted: a late event or an admin's message for them records nothing.
create table erased_recipients (
  user_id bigint primary key,
  erased_at timestamptz not null default now()
);
