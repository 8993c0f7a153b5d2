// Every scope the platform's resource server knows, and who may have which.
export const apiScopes = ['payments:read', 'payments:write', 'users:read', 'users:admin', 'users:credentials', 'notifications:read', 'notifications:write'] as const;

/** What a signed-in user's token carries; admins also get users:admin. */
export function userScopes(role: 'user' | 'admin'): string[] {
  const scopes = ['payments:read', 'payments:write', 'users:read', 'notifications:read', 'notifications:write'];
  return role === 'admin' ? [...scopes, 'users:admin'] : scopes;
}

/** What each service's client may request with client_credentials. */
export const serviceClientScopes: Record<string, string> = {
  'auth-service': 'users:credentials users:read',
  'users-service': 'notifications:write',
  'payments-service': 'users:read notifications:write',
  'notifications-service': 'users:read',
};
