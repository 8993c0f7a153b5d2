// Reading and changing webhook endpoints. An endpoint is its owner's; an admin may act on anyone's.
import { isAdmin, localUserId, type Caller } from '@paymesh/platform/auth/caller';
import { queryRows, sql, type Db } from '@paymesh/platform/db/open-database';
import { notificationsErrors } from '../errors.ts';
import { isErased } from '../messages/erased-recipients.ts';
import { newId } from '../messages/new-id.ts';
import type { EndpointRow } from './webhook-endpoint.ts';

const maxEndpointsPerOwner = 16;

/** A text[] parameter (drizzle's sql expands a JS array into a list, not an array). */
const textArray = (values: readonly string[]) => sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

/** The caller's own endpoint (an admin: anyone's), locked for the transaction when asked; otherwise 404. */
export async function findEndpoint(db: Db, caller: Caller, id: string, lock = false): Promise<EndpointRow> {
  const owner = isAdmin(caller) ? sql`true` : sql`owner_id = ${localUserId(caller)}`;
  const [row] = await queryRows<EndpointRow>(db, sql`select * from webhook_endpoints where id = ${id} and ${owner} ${lock ? sql`for update` : sql``}`);
  if (row === undefined) throw notificationsErrors.webhookEndpointNotFound();
  return row;
}

/** The owner's endpoints, newest first. */
export function endpointsOf(db: Db, ownerId: string): Promise<EndpointRow[]> {
  return queryRows<EndpointRow>(db, sql`select * from webhook_endpoints where owner_id = ${ownerId} order by created_at desc`);
}

export interface NewEndpoint {
  readonly ownerId: string;
  readonly allUsers: boolean;
  readonly url: string;
  readonly eventTypes: readonly string[];
  readonly description: string | undefined;
  readonly secret: string;
}

/** Registers an endpoint, up to `maxEndpointsPerOwner` per owner (counted under a lock, so the cap holds under concurrency). */
export async function createEndpoint(db: Db, input: NewEndpoint): Promise<EndpointRow> {
  return db.transaction(async (tx) => {
    // A deleted user's token may live a few more seconds: nothing new is kept about them.
    if (await isErased(tx, input.ownerId)) throw notificationsErrors.recipientNotFound();
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('webhook_endpoints'), hashtext(${input.ownerId}))`);
    const [count] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from webhook_endpoints where owner_id = ${input.ownerId}`);
    if (count!.n >= maxEndpointsPerOwner) throw notificationsErrors.tooManyWebhookEndpoints(maxEndpointsPerOwner);
    const [inserted] = await queryRows<EndpointRow>(tx, sql`insert into webhook_endpoints (id, owner_id, all_users, url, event_types, description, secret)
      values (${newId('we')}, ${input.ownerId}, ${input.allUsers}, ${input.url}, ${textArray(input.eventTypes)}, ${input.description ?? null}, ${input.secret}) returning *`);
    return inserted!;
  });
}

export interface EndpointChanges {
  readonly url: string | undefined;
  readonly eventTypes: readonly string[] | undefined;
  /** null clears it; undefined keeps it. */
  readonly description: string | null | undefined;
  readonly disabled: boolean | undefined;
}

/** Changes what is given of the caller's endpoint (an admin: anyone's) and keeps the rest. */
export async function updateEndpoint(db: Db, caller: Caller, id: string, changes: EndpointChanges): Promise<EndpointRow> {
  return db.transaction(async (tx) => {
    const current = await findEndpoint(tx, caller, id, true);
    const [updated] = await queryRows<EndpointRow>(tx, sql`update webhook_endpoints set
      url = ${changes.url ?? current.url}, event_types = ${textArray(changes.eventTypes ?? current.event_types)},
      description = ${changes.description === undefined ? current.description : changes.description}, disabled = ${changes.disabled ?? current.disabled}
      where id = ${current.id} returning *`);
    return updated!;
  });
}

export async function deleteEndpoint(db: Db, caller: Caller, id: string): Promise<void> {
  const endpoint = await findEndpoint(db, caller, id);
  await db.execute(sql`delete from webhook_endpoints where id = ${endpoint.id}`);
}

/**
 * The new secret signs from now on; the previous one keeps signing too for `overlapSec` (none
 * when 0), so receivers can switch over without missing a delivery.
 */
export async function rotateEndpointSecret(db: Db, caller: Caller, id: string, secret: string, overlapSec: number): Promise<EndpointRow> {
  return db.transaction(async (tx) => {
    const current = await findEndpoint(tx, caller, id, true);
    const [updated] = await queryRows<EndpointRow>(tx, sql`update webhook_endpoints set secret = ${secret}, previous_secret = ${overlapSec === 0 ? null : current.secret},
      previous_secret_expires_at = ${overlapSec === 0 ? null : sql`now() + ${`${overlapSec} seconds`}::interval`}
      where id = ${current.id} returning *`);
    return updated!;
  });
}
