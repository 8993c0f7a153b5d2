// The card processors this build can use, by their PAYMENTS_CARD_PROCESSOR name. A real one is
// added here with its credentials as config keys (services/payments/docs/processors.md).
import type { CardProcessor } from './card-processor.ts';
import { TestCardProcessor } from './test-card-processor.ts';

export const cardProcessors = {
  test: () => new TestCardProcessor(),
} satisfies Record<string, () => CardProcessor>;

export type CardProcessorName = keyof typeof cardProcessors;
export const cardProcessorNames = Object.keys(cardProcessors) as CardProcessorName[];

export function createCardProcessor(name: CardProcessorName): CardProcessor {
  return cardProcessors[name]();
}
