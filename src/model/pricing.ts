/**
 * The price of a model call: the one place the gate (to reserve) and the ledger's entries (to
 * record) get a model's price from. Prices come from MODEL_PRICES today; a model without a price
 * costs 0 (and money budgets cannot hold it back: `priceOf` says so with `known: false`).
 */
import type { TokenPrice } from '../core/budgets.js';

/** USD per million tokens, as MODEL_PRICES gives it (= micro-USD per token). */
export type PriceTable = Record<string, { input: number; output: number }>;

export interface Pricing {
  priceOf(model: string): TokenPrice & { known: boolean };
  /** Micro-USD for a call's real usage, rounded (never above what `callCost` reserved for it). */
  costMicroUsd(model: string, inputTokens: number, outputTokens: number): number;
}

export function createPricing(prices: PriceTable = {}): Pricing {
  const priceOf = (model: string) => {
    const price = Object.hasOwn(prices, model) ? prices[model] : undefined;
    return price ? { input: price.input, output: price.output, known: true } : { input: 0, output: 0, known: false };
  };
  return {
    priceOf,
    costMicroUsd(model, inputTokens, outputTokens) {
      const price = priceOf(model);
      return Math.round(inputTokens * price.input + outputTokens * price.output);
    },
  };
}

/** The dearer of two prices, per direction: a reservation must cover whichever model answers. */
export function dearest(prices: TokenPrice[]): TokenPrice {
  return { input: Math.max(0, ...prices.map((p) => p.input)), output: Math.max(0, ...prices.map((p) => p.output)) };
}
