import { duration, int, oneOf, str, url } from '@paymesh/platform/config';
import { devSecret, existingDevSecret } from '@paymesh/platform/dev-secrets';
import { serviceConfigSpec, servicePorts } from '@paymesh/platform/service-config';
import { cardProcessorNames } from './processor/card-processors.ts';

export const paymentsConfigSpec = {
  ...serviceConfigSpec('payments'),
  usersUrl: url('USERS_URL', 'Internal base URL of the users service (payer checks).', { default: `http://127.0.0.1:${servicePorts.users}` }),
  defaultCurrency: str('PAYMENTS_DEFAULT_CURRENCY', 'Currency of a payment that names none (ISO 4217).', { default: 'USD' }),
  maxAmountMinor: int('PAYMENTS_MAX_AMOUNT_MINOR', 'Largest accepted amount, in minor units of the currency.', { default: 100_000_000, min: 1 }),
  defaultPaymentMethod: str('PAYMENTS_DEFAULT_PAYMENT_METHOD', 'Payment method of a `POST /payments` that names none and is confirmed at once (the compatibility contract\'s request). The test processor\'s `pm_card_visa` by default; empty to require a payment method.', { default: 'pm_card_visa' }),
  fingerprintKey: str('PAYMENTS_FINGERPRINT_KEY', 'Secret key of the card fingerprints and of the stored idempotency request fingerprints (HMAC-SHA256): without it, neither reveals a card number. Changing it changes every fingerprint.', {
    default: () => devSecret('payments-fingerprint'),
    shownDefault: '(development key, with a warning)',
    insecure: (value) => (value === existingDevSecret('payments-fingerprint') ? 'using the development fingerprint key; set PAYMENTS_FINGERPRINT_KEY in production' : undefined),
  }),
  idempotencyWaitMs: duration('PAYMENTS_IDEMPOTENCY_WAIT_MS', 'How long a request waits for an earlier request with the same Idempotency-Key to finish, to answer with its response, before answering 409.', { unit: 'ms', default: 5_000, min: 0, max: 60_000 }),
  idempotencyLeaseMs: duration('PAYMENTS_IDEMPOTENCY_LEASE_MS', 'Lease of a running request on its Idempotency-Key and on the processor attempts it begins, renewed three times per lease while it runs. After a crash (kill -9, a database restart) the key is served again once this lapses, so keep it well under PAYMENTS_IDEMPOTENCY_WAIT_MS: a retry waiting for the key then takes it over instead of answering 409.', { unit: 'ms', default: 3_000, min: 300, max: 60_000 }),
  attemptGraceSec: duration('PAYMENTS_ATTEMPT_GRACE_SECONDS', 'How long a processor attempt whose request died (the processor may have authorised or charged the card, the payment was never recorded) waits for the client\'s retry, which resumes the same processor operation, before the reconciler voids or refunds it (a capture is completed instead).', { unit: 's', default: 60, min: 0, max: 86_400 }),
  reconcileMaxTries: int('PAYMENTS_RECONCILE_MAX_TRIES', 'How many times the reconciler tries to settle one processor attempt whose processor call fails (a capture the processor refuses, say) before it marks the attempt failed: a failed capture leaves the payment awaiting capture with `last_payment_error` set and emits `payment.failed`, so the merchant may capture again or cancel.', { default: 5, min: 1, max: 1_000 }),
  commitGroup: int('PAYMENTS_COMMIT_GROUP', 'How many new payments (POST /payments) may commit together in one transaction (ADR 30): those arriving while a transaction commits wait for it and go in the next, so the platform\'s ledger accounts are locked once per group and the WAL flushed once. Should one payment\'s writes fail, the group is rolled back and each of its payments committed alone. 1 commits each payment in its own transaction, concurrently. A larger group waits longer for its commit.', { default: 32, min: 1, max: 256 }),
  invariantCheckIntervalSec: duration('PAYMENTS_INVARIANT_CHECK_SECONDS', 'How often the ledger invariants are checked (ledger_invariant_checks_total); 0 turns the schedule off.', { unit: 's', default: 600, min: 0 }),
  cardProcessor: oneOf('PAYMENTS_CARD_PROCESSOR', 'The card processor. `test` is the built-in test-mode processor, which behaves like Stripe\'s test cards and moves no real money; services/payments/docs/processors.md tells how to add a real one.', cardProcessorNames, { default: 'test' }),
};
