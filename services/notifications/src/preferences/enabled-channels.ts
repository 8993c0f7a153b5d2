import { isCatalogued, type Channel, type NotificationType } from '../messages/notification-types.ts';

/** A user's choice for one type and channel (the preferences table). */
export interface PreferenceRow {
  readonly user_id: string;
  readonly type: string;
  readonly channel: Channel;
  readonly enabled: boolean;
}

/**
 * The channels a message of this type goes to for this user, given the preferences read for them
 * (any other user's rows are ignored): the type's, minus what they switched off. A custom type (an
 * admin's) follows the user's choices for `message`.
 */
export function enabledChannels(preferences: readonly PreferenceRow[], userId: string, type: NotificationType): Set<Channel> {
  const enabled = new Set(type.channels);
  if (type.locked) return enabled;
  const chosen = isCatalogued(type.type) ? type.type : 'message';
  for (const row of preferences) if (row.user_id === userId && row.type === chosen && !row.enabled) enabled.delete(row.channel);
  return enabled;
}
