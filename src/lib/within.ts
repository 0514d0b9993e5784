// Waiting for work with a bound: what shutdown gives each service (mesh.ts), so that one that never settles
// does not hold up the rest.
import type { Clock, TimerHandle } from './clock.ts';

const TIMED_OUT = Symbol('timed out');

/**
 * Runs `work` and waits for it at most `ms` on `clock`: true when it settled in time, false when the bound
 * ran out first (the work goes on, no longer waited for). Rethrows what `work` throws or rejects with.
 */
export async function within(clock: Clock, ms: number, work: () => Promise<void> | void): Promise<boolean> {
  let timer: TimerHandle | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = clock.setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return (await Promise.race([Promise.resolve().then(work), expired])) !== TIMED_OUT;
  } finally {
    timer?.cancel();
  }
}
