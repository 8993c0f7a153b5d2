// Push deliveries, each to one registered device through its platform's provider.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { AttemptResult, ChannelSender, ClaimedDelivery } from '../delivery/channel-sender.ts';
import type { ApnsSender } from './apns-sender.ts';
import type { FcmSender } from './fcm-sender.ts';
import type { PushMessage } from './push-message.ts';
import type { WebPushSender, WebPushSubscription } from './web-push-sender.ts';

export interface PushProviders {
  readonly android?: FcmSender;
  readonly ios?: ApnsSender;
  readonly web?: WebPushSender;
}

interface DeviceRow { id: string; platform: 'ios' | 'android' | 'web'; token: string; keys: WebPushSubscription['keys'] | null }

export class PushChannel implements ChannelSender {
  readonly #db: Db;
  readonly #providers: PushProviders;

  constructor(db: Db, providers: PushProviders) {
    this.#db = db;
    this.#providers = providers;
  }

  /** Platforms with a configured provider: only their devices get deliveries. */
  get platforms(): ReadonlySet<string> {
    return new Set(Object.entries(this.#providers).filter(([, p]) => p !== undefined).map(([platform]) => platform));
  }

  async send(delivery: ClaimedDelivery): Promise<AttemptResult> {
    const [device] = await queryRows<DeviceRow>(this.#db, sql`select id, platform, token, keys from devices where id = ${delivery.target_id}`);
    if (device === undefined) return { outcome: { kind: 'canceled', error: 'device was removed' } };
    const payload = delivery.payload as { title: string; body: string; data: Record<string, string> };
    const message: PushMessage = { id: delivery.id, title: payload.title, body: payload.body, data: payload.data };
    const { android, ios, web } = this.#providers;
    if (device.platform === 'android' && android !== undefined) return { outcome: await android.send(device.token, message) };
    if (device.platform === 'ios' && ios !== undefined) return { outcome: await ios.send(device.token, message) };
    // The Web Push sender checks the endpoint's address again (DNS may have changed since
    // registration) and connects to the address it checked.
    if (device.platform === 'web' && web !== undefined && device.keys !== null) {
      return { outcome: await web.send({ endpoint: device.token, keys: device.keys }, message) };
    }
    return { outcome: { kind: 'failed', error: `no push provider is configured for ${device.platform}` } };
  }

  async close(): Promise<void> {
    await this.#providers.ios?.close();
  }
}
