// A webhook endpoint as stored, and as the API shows it (the secret only when it was just made).
export interface EndpointRow {
  id: string; owner_id: string; all_users: boolean; url: string; event_types: string[]; description: string | null;
  secret: string; previous_secret_expires_at: string | Date | null; disabled: boolean; created_at: string | Date;
}

export const publicEndpoint = (row: EndpointRow, secret?: string) => ({
  id: row.id,
  object: 'webhook_endpoint',
  url: row.url,
  event_types: row.event_types,
  description: row.description,
  all_users: row.all_users,
  status: row.disabled ? 'disabled' : 'enabled',
  previous_secret_expires_at: row.previous_secret_expires_at === null || new Date(row.previous_secret_expires_at) < new Date() ? null : new Date(row.previous_secret_expires_at).toISOString(),
  created_at: new Date(row.created_at).toISOString(),
  ...(secret === undefined ? {} : { secret }),
});
