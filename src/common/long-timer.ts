/**
 * Timers for durations a user gives (stop timeouts, later restart back-offs and health
 * intervals). Node fires a setTimeout longer than 2^31-1 ms after 1 ms instead; these chain
 * timers so that any duration is waited for in full.
 */

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `callback` once `ms` have passed; the returned function cancels it. */
export function setLongTimeout(callback: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout;
  let cancelled = false;
  const arm = (remaining: number) => {
    const step = Math.min(Math.max(remaining, 0), MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (cancelled) return;
      if (remaining > step) arm(remaining - step);
      else callback();
    }, step);
  };
  arm(ms);
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}

/** true when `promise` settles within `ms`, false when the time runs out first. */
export function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let cancel: (() => void) | undefined;
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => (cancel = setLongTimeout(() => resolve(false), ms))),
  ]).finally(() => cancel?.());
}
