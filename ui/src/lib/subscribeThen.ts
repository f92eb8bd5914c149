// Listen first, then read. The back end announces changes as events (`events-changed`,
// `sync-changed`, …) and does not repeat them; a read made before the listener is in
// place can miss a change that lands between the read and the subscription — at start
// the first sync often finishes in that gap, and its events then stayed off screen
// until the next change. So the first reads wait until every subscription is in place.

export type Subscription = {
  /** For the warning when it cannot be made. */
  what: string;
  /** Subscribes; resolves to the unsubscribe function. */
  start: () => Promise<() => void>;
};

/**
 * Starts every subscription, then — once each is in place or has failed (`onFail`
 * hears about it; a failed one must not keep the app from loading) — calls `then`,
 * once. The returned stop function unsubscribes them all, also those still on their
 * way, and keeps `then` from running if it has not yet.
 */
export function subscribeThen(
  subscriptions: readonly Subscription[],
  then: () => void,
  onFail: (what: string, error: unknown) => void,
): () => void {
  let stopped = false;
  const unsubs: Array<() => void> = [];
  const started = subscriptions.map((s) =>
    s.start().then(
      (unsub) => {
        if (stopped) unsub();
        else unsubs.push(unsub);
      },
      (e) => {
        if (!stopped) onFail(s.what, e);
      },
    ),
  );
  void Promise.all(started).then(() => {
    if (!stopped) then();
  });
  return () => {
    stopped = true;
    for (const unsub of unsubs.splice(0)) unsub();
  };
}
