/**
 * Group commit: writes that arrive together go to the database as one statement (or one
 * transaction) instead of one each. Under load most of a turn's cost is round trips and commits,
 * not the work in them, so N turns finishing at once cost about what one did. Each caller still
 * gets its own result, and an error when its write failed, so nothing is reported written that
 * was not.
 */

export interface GroupCommitOptions {
  /** The most items one write takes; the rest wait for the next. */
  maxBatch?: number;
  /** Writes in flight at once; what arrives meanwhile waits and goes in the next batch. */
  maxInFlight?: number;
  /**
   * When a batch fails, write each of its items alone, so that one bad item (a constraint it
   * breaks) fails only its own caller. Off for writes that fail together anyway (the database is down).
   */
  retryAlone?: boolean;
}

/** `write` gets a batch and answers one result per item, in order. */
export function groupCommit<In, Out>(write: (batch: In[]) => Promise<Out[]>, options: GroupCommitOptions = {}): (item: In) => Promise<Out> {
  const maxBatch = options.maxBatch ?? 200;
  const maxInFlight = options.maxInFlight ?? 4;
  interface Pending {
    item: In;
    resolve: (out: Out) => void;
    reject: (err: unknown) => void;
  }
  let queue: Pending[] = [];
  let scheduled = false;
  let inFlight = 0;

  async function settle(batch: Pending[]): Promise<void> {
    try {
      const results = await write(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as Out));
    } catch (err) {
      if (!options.retryAlone || batch.length === 1) {
        for (const p of batch) p.reject(err);
        return;
      }
      // One after another: in the batch's order, and without a burst of transactions on a rare path.
      for (const p of batch) await settle([p]);
    }
  }

  function drain(): void {
    scheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(maxBatch);
      inFlight += 1;
      void settle(batch).finally(() => {
        inFlight -= 1;
        drain();
      });
    }
  }

  return (item) =>
    new Promise<Out>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        // Collect what arrives in the same turn of the event loop (and the I/O callbacks just before it).
        setImmediate(drain);
      }
    });
}
