/** An interaction handler for tests: records what reached it and answers what the test sets in `next`. */
import type { Interaction, InteractionAnswer, InteractionHandler } from '../../src/core/interactions.js';

export function probeHandler(prefix = 'probe'): InteractionHandler & { seen: Interaction[]; next: (i: Interaction) => InteractionAnswer } {
  const h = {
    prefix,
    seen: [] as Interaction[],
    next: (_i: Interaction): InteractionAnswer => ({ kind: 'none' }),
    async handle(i: Interaction) {
      h.seen.push(i);
      return h.next(i);
    },
  };
  return h;
}
