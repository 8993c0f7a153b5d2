import { resolve } from 'node:path';
import { bool, duration, durationList, int, optionalStr, optionalUrl, str, url } from '@paymesh/platform/config';
import { varDir } from '@paymesh/platform/dev-secrets';
import { serviceConfigSpec, servicePorts } from '@paymesh/platform/service-config';

export const notificationsConfigSpec = {
  ...serviceConfigSpec('notifications'),
  usersUrl: url('USERS_URL', 'Internal base URL of the users service (recipients\' email addresses are looked up there when an email is sent, never copied).', { default: `http://127.0.0.1:${servicePorts.users}` }),
  smtpUrl: optionalUrl('SMTP_URL', 'SMTP server for email (`smtp://user:pass@host:587`, `smtps://…`). Unset: each email is written as an .eml file to EMAIL_OUTBOX_DIR.'),
  emailFrom: str('EMAIL_FROM', 'The From of every email.', { default: 'Paymesh <no-reply@paymesh.local>' }),
  emailOutboxDir: str('EMAIL_OUTBOX_DIR', 'Where emails are written as .eml files when SMTP_URL is unset.', { default: resolve(varDir, 'mail'), shownDefault: '`var/mail`' }),
  fcmServiceAccountJson: optionalStr('FCM_SERVICE_ACCOUNT_JSON', 'Firebase service account key (the JSON file\'s content) for FCM HTTP v1; unset turns Android push off.'),
  fcmApiUrl: url('FCM_API_URL', 'FCM API base URL.', { default: 'https://fcm.googleapis.com' }),
  apnsKey: optionalStr('APNS_KEY', 'APNs token-auth key (the .p8 file\'s PEM content); with APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC it turns iOS push on.'),
  apnsKeyId: optionalStr('APNS_KEY_ID', 'APNs key id.'),
  apnsTeamId: optionalStr('APNS_TEAM_ID', 'Apple developer team id.'),
  apnsTopic: optionalStr('APNS_TOPIC', 'The app\'s bundle id.'),
  apnsUrl: url('APNS_URL', 'APNs base URL (`https://api.sandbox.push.apple.com` for development builds).', { default: 'https://api.push.apple.com' }),
  vapidPublicKey: optionalStr('VAPID_PUBLIC_KEY', 'Web Push VAPID public key (URL-safe base64, `npx web-push generate-vapid-keys`); with VAPID_PRIVATE_KEY it turns Web Push on.'),
  vapidPrivateKey: optionalStr('VAPID_PRIVATE_KEY', 'Web Push VAPID private key.'),
  vapidSubject: str('VAPID_SUBJECT', 'Contact for push services (`mailto:` or `https:`).', { default: 'mailto:ops@paymesh.local' }),
  webhooksAllowPrivateNetworks: bool('WEBHOOKS_ALLOW_PRIVATE_NETWORKS', 'Allow webhook endpoints and Web Push endpoints on loopback and private networks (development only: otherwise anyone able to register an endpoint could make the service call internal addresses).', {
    default: false,
    insecure: (value) => (value ? 'WEBHOOKS_ALLOW_PRIVATE_NETWORKS=true: webhooks may target internal addresses' : undefined),
  }),
  retryDelaysMs: durationList('NOTIFICATIONS_RETRY_DELAYS', 'Delays between the attempts of an email, push or webhook delivery; after the last one fails, the delivery is dead (visible through the API, redeliverable). The default retries for 27.6 hours.', { unit: 'ms', default: '1m,5m,30m,2h,5h,10h,10h' }),
  deliveryTimeoutMs: duration('NOTIFICATIONS_DELIVERY_TIMEOUT_MS', 'Time limit of one delivery attempt (SMTP exchange, push or webhook request).', { unit: 'ms', default: 10_000, min: 100, max: 120_000 }),
  deliveryConcurrency: int('NOTIFICATIONS_DELIVERY_CONCURRENCY', 'Deliveries attempted at once by each replica.', { default: 16, min: 1, max: 256 }),
};
