// @paymesh/sdk: a typed client for the Paymesh API (README.md beside src/ shows each part).
export { createPaymesh, type Paymesh, type PaymeshOptions, type ListOptions } from './create-paymesh.ts';
export { ApiError, AuthenticationError, CardError, ConnectionError, IdempotencyError, InvalidRequestError, PaymeshError, PermissionError, RateLimitError, type PaymeshErrorType } from './paymesh-error.ts';
export { logIn, type LogInOptions } from './log-in.ts';
export { staticToken, type TokenProvider, type TokenSource } from './token-provider.ts';
export { clientCredentials, type ClientCredentialsOptions } from './client-credentials.ts';
export { oidcRefreshToken, type OidcRefreshTokenOptions, type OidcRefreshTokenProvider } from './oidc-refresh-token.ts';
export type { InboxEvent, InboxStreamOptions, Notification } from './inbox-stream.ts';
export { verifyWebhook, WebhookVerificationError, type WebhookEvent, type VerifyWebhookOptions } from './verify-webhook.ts';
export type { RetryOptions } from './retry-policy.ts';
export { cardBrand, cardBrands, luhnValid, type CardBrand } from './card-rules.ts';
export { currencyExponents } from './currencies.ts';
export type { ListItem, ListPath, ResponseData, Undescribed } from './response-types.ts';
export type { components, paths, operations, webhooks } from './generated/openapi.ts';
