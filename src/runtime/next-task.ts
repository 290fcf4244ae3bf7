/**
 * Resolves in a later task (a message posted to itself), not a microtask, so whatever waits in
 * the event loop's queue runs first:
 *  - in the worker, between the batches of a call: on wasm a run resolves without the event loop
 *    ever taking a turn, so a worker running batch after batch would never take in the message
 *    that aborts the call (or a queued one);
 *  - in the page, between slices of the vector index's CPU scan: the page's own timers and
 *    messages run in between (not scheduler.yield(), whose continuations jump ahead of them for
 *    as long as the scan lasts).
 */
export function nextTask(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}
