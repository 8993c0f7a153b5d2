// Webhook deliveries: signed when sent (a fresh timestamp on every attempt, with the previous secret
// too while a rotation's overlap lasts), to the endpoint's current URL.
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import type { AttemptResult, ChannelSender, ClaimedDelivery } from '../delivery/channel-sender.ts';
import { sendWebhook, type WebhookRequest } from './send-webhook.ts';
import { signWebhook } from './webhook-signature.ts';

interface EndpointRow { url: string; secret: string; previous_secret: string | null; previous_live: boolean; disabled: boolean }

export class WebhookChannel implements ChannelSender {
  readonly #db: Db;
  readonly #options: Pick<WebhookRequest, 'timeoutMs' | 'allowPrivate' | 'lookup'>;

  constructor(db: Db, options: Pick<WebhookRequest, 'timeoutMs' | 'allowPrivate' | 'lookup'>) {
    this.#db = db;
    this.#options = options;
  }

  async send(delivery: ClaimedDelivery): Promise<AttemptResult> {
    const [endpoint] = await queryRows<EndpointRow>(this.#db, sql`
      select url, secret, previous_secret, coalesce(previous_secret_expires_at > now(), false) as previous_live, disabled
      from webhook_endpoints where id = ${delivery.target_id}`);
    if (endpoint === undefined) return { outcome: { kind: 'canceled', error: 'webhook endpoint was deleted' } };
    if (endpoint.disabled) return { outcome: { kind: 'canceled', error: 'webhook endpoint is disabled' } };
    const { body } = delivery.payload as { body: string };
    const secrets = endpoint.previous_live && endpoint.previous_secret !== null ? [endpoint.secret, endpoint.previous_secret] : [endpoint.secret];
    const signature = signWebhook(body, secrets, Math.floor(Date.now() / 1000));
    const eventId = (JSON.parse(body) as { id: string }).id;
    const result = await sendWebhook({ url: endpoint.url, body, signature, eventId, ...this.#options });
    return { outcome: result.outcome, response: result.responseSnippet };
  }
}
