// Where modelmesh.session-stickiness.v1 keeps which model each session is pinned to. The strategy only sees
// this interface, so it stays independent of how pins are kept: LocalSessionPins (below) is the in-process
// default; storage/redis/session-pins.ts shares pins between instances around a local one. The composition
// root (mesh.ts) builds one store per process and hands it to every generation's strategies, so pins also
// survive a reload. Both methods are called on the request path and never wait.

/** The pin store seen by the strategy. Pools are separate namespaces (the same session id may be in two pools). */
export interface SessionPinStore {
  /** The model the session is pinned to in the pool, or undefined; counts as a use (LRU). */
  get(pool: string, session: string): string | undefined;
  /**
   * `model` answered a request of the session. `previous` is the pin the strategy ordered by (undefined:
   * none): equal to `model`, the pin was kept; undefined, a new pin; anything else, the session moved.
   */
  pin(pool: string, session: string, model: string, previous: string | undefined): void;
  /** The pin without counting it as a use (tests, status pages). */
  peek(pool: string, session: string): string | undefined;
  /** Sessions pinned in the pool. */
  size(pool: string): number;
}

/** Sessions remembered per pool by default: memory is bounded whatever the traffic. */
export const MAX_SESSIONS = 10_000;

/** An LRU per pool of at most `maxSessions` sessions (a Map keeps insertion order; a use re-inserts). */
export class LocalSessionPins implements SessionPinStore {
  readonly #maxSessions: number;
  /** pool → (session → model id), least recently used first. */
  readonly #pools = new Map<string, Map<string, string>>();

  constructor(maxSessions = MAX_SESSIONS) {
    this.#maxSessions = maxSessions;
  }

  get(pool: string, session: string): string | undefined {
    const model = this.#pools.get(pool)?.get(session);
    if (model !== undefined) this.set(pool, session, model);
    return model;
  }

  pin(pool: string, session: string, model: string): void {
    this.set(pool, session, model);
  }

  peek(pool: string, session: string): string | undefined {
    return this.#pools.get(pool)?.get(session);
  }

  size(pool: string): number {
    return this.#pools.get(pool)?.size ?? 0;
  }

  /** Pins (or re-pins) a session as the most recently used, evicting the least recently used beyond the bound. */
  set(pool: string, session: string, model: string): void {
    let sessions = this.#pools.get(pool);
    if (sessions === undefined) {
      sessions = new Map();
      this.#pools.set(pool, sessions);
    }
    sessions.delete(session);
    sessions.set(session, model);
    if (sessions.size > this.#maxSessions) {
      const oldest = sessions.keys().next();
      if (oldest.done !== true) sessions.delete(oldest.value);
    }
  }
}
