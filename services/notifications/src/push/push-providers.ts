import type { ConfigOf } from '@paymesh/platform/config';
import type { notificationsConfigSpec } from '../config.ts';
import type { PinnedTarget } from '../delivery/pinned-post.ts';
import { ApnsSender } from './apns-sender.ts';
import { FcmSender, parseFcmServiceAccount } from './fcm-sender.ts';
import type { PushProviders } from './push-channel.ts';
import { WebPushSender } from './web-push-sender.ts';

/** Each provider is on when its credentials are configured; half a configuration is an error at boot. */
export function pushProviders(config: ConfigOf<typeof notificationsConfigSpec>, checkWebPushTarget: (url: string) => Promise<PinnedTarget>): PushProviders {
  const timeoutMs = config.deliveryTimeoutMs;
  const apns = [config.apnsKey, config.apnsKeyId, config.apnsTeamId, config.apnsTopic];
  if (apns.some((v) => v !== undefined) && apns.some((v) => v === undefined)) throw new Error('APNS_KEY, APNS_KEY_ID, APNS_TEAM_ID and APNS_TOPIC go together: set all four or none');
  if ((config.vapidPublicKey === undefined) !== (config.vapidPrivateKey === undefined)) throw new Error('VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY go together: set both or neither');
  return {
    android: config.fcmServiceAccountJson === undefined ? undefined : new FcmSender({ serviceAccount: parseFcmServiceAccount(config.fcmServiceAccountJson), apiUrl: config.fcmApiUrl, timeoutMs }),
    ios: config.apnsKey === undefined ? undefined : new ApnsSender({ keyPem: config.apnsKey, keyId: config.apnsKeyId!, teamId: config.apnsTeamId!, topic: config.apnsTopic!, url: config.apnsUrl, timeoutMs }),
    web: config.vapidPublicKey === undefined ? undefined : new WebPushSender({ vapidPublicKey: config.vapidPublicKey, vapidPrivateKey: config.vapidPrivateKey!, subject: config.vapidSubject, timeoutMs, allowInsecureEndpoints: config.webhooksAllowPrivateNetworks, checkTarget: checkWebPushTarget }),
  };
}
