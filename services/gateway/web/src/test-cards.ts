// The test processor's cards (services/payments/docs/processors.md), listed on the pay page: the
// platform runs it unless PAYMENTS_CARD_PROCESSOR names a real one, and moves no money with it.

export interface TestCard {
  readonly number: string;
  readonly outcome: string;
}

export const testCards: readonly TestCard[] = [
  { number: '4242 4242 4242 4242', outcome: 'Succeeds' },
  { number: '4000 0027 6000 3184', outcome: 'Asks for 3-D Secure authentication' },
  { number: '4000 0000 0000 0002', outcome: 'Declined (generic decline)' },
  { number: '4000 0000 0000 9995', outcome: 'Declined (insufficient funds)' },
  { number: '4000 0000 0000 0069', outcome: 'Declined (expired card)' },
  { number: '4000 0000 0000 0127', outcome: 'Declined (incorrect CVC)' },
  { number: '4000 0000 0000 0119', outcome: 'Declined (processing error)' },
];
