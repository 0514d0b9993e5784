// The lifetime of one routed request (DESIGN §4.4, §4.5): one cancel token that every attempt and backoff
// waits on, aborted by the client going away or by the request deadline, whichever comes first.
import { MeshError } from '../../errors.ts';
import { CancelToken, type CancelSignal } from '../../lib/cancel.ts';
import type { Clock, TimerHandle } from '../../lib/clock.ts';

export class RequestScope {
  readonly #token = new CancelToken();
  readonly #client: CancelSignal;
  readonly #timer: TimerHandle | null;
  readonly #onClientAbort = (): void => this.#token.abort(new MeshError('cancelled', 'client closed the request'));
  #deadlineHit = false;
  readonly deadlineMs: number;
  readonly #clock: Clock;
  /** clock.now() at which the deadline falls (Infinity: no deadline). */
  readonly #endsAt: number;

  constructor(client: CancelSignal, clock: Clock, deadlineMs: number) {
    this.#client = client;
    this.deadlineMs = deadlineMs;
    this.#clock = clock;
    this.#endsAt = deadlineMs > 0 ? clock.now() + deadlineMs : Infinity;
    if (client.aborted) this.#onClientAbort();
    else client.addEventListener('abort', this.#onClientAbort, { once: true });
    // 0 turns the deadline off, as 0 does for proxy.timeouts.request (not "exceeded at once").
    this.#timer = deadlineMs > 0 ? clock.setTimeout(() => {
      this.#deadlineHit = true;
      this.#token.abort(new MeshError('timeout', `request deadline of ${deadlineMs}ms exceeded`));
    }, deadlineMs) : null;
  }

  /** What attempts and backoff sleeps listen to. */
  get signal(): CancelSignal {
    return this.#token;
  }

  /** The client disconnected (not the deadline). */
  get clientGone(): boolean {
    return this.#client.aborted;
  }

  get deadlineHit(): boolean {
    return this.#deadlineHit;
  }

  /** Milliseconds left before the deadline (Infinity without one): a backoff longer than that is no retry. */
  get remainingMs(): number {
    return this.#endsAt === Infinity ? Infinity : Math.max(0, this.#endsAt - this.#clock.now());
  }

  /** The answer is committed: the deadline covers routing only, a stream may then run as long as it needs. */
  committed(): void {
    this.#timer?.cancel();
  }

  /** The request is over: no timer and no listener outlives it. */
  release(): void {
    this.#timer?.cancel();
    this.#client.removeEventListener('abort', this.#onClientAbort);
  }
}
