// Session pins shared by every instance (issue 13 §3: "a session keeps its model whichever instance serves
// it"), without a Redis round trip on the request path (§4). A pin changes rarely (a session's first answer,
// a failover), so every instance keeps its own LRU (LocalSessionPins) and Redis only carries the changes:
// - a change is written as `<prefix>session:<pool>:<session>` with an idle TTL and published on
//   `<prefix>session`; every instance applies what it receives to its LRU (within a message round trip);
// - a new pin is a claim: one script sets the key only when no instance pinned the session yet, else hands
//   back the pin in force, which this instance adopts (two instances racing on a new session agree on one);
// - a local miss reads the key in the background (an instance that started later, or evicted the session),
//   so the next request here has it; the request that missed takes the priority order;
// - a kept pin refreshes the key's TTL at most every TTL/4 per instance (sessions idle for the TTL expire);
// - pins made while Redis was unreachable are written back (and published) when it is reachable again.
// Consistency: a pin made on one instance is used by the others from their next request after the message
// (about a millisecond on a LAN), or after the background read; until then they may route by priority.
import type { Clock } from '../../lib/clock.ts';
import { LocalSessionPins, MAX_SESSIONS, type SessionPinStore } from '../../mesh/strategies/session-pins.ts';
import type { RedisClient } from './client.ts';
import { RedisScript } from './script.ts';

/** Idle time after which a session's shared pin expires (a prompt cache is long cold by then). */
export const SESSION_PIN_TTL_MS = 3_600_000;
/** Background reads of missed sessions at once; beyond it a miss is not read (the claim still adopts). */
const MAX_READS = 256;
/** Pins remembered for write-back while Redis is unreachable. */
const MAX_UNWRITTEN = 10_000;

/** KEYS[1] pin key; ARGV model, ttl ms, channel, message. Returns the pin in force (nil: this one was set). */
const CLAIM = new RedisScript(`
local current = redis.call('GET', KEYS[1])
if current then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return false
`);

export interface SharedSessionPinsOptions {
  client: RedisClient;
  /** Prefix of the pin keys, e.g. `modelmesh:session:`. */
  keyPrefix: string;
  channel: string;
  /** This instance's id: its own messages are skipped. */
  origin: string;
  clock: Clock;
  ttlMs?: number;
  maxSessions?: number;
}

interface PinMessage {
  origin: string;
  pool: string;
  session: string;
  model: string;
}

export class SharedSessionPins implements SessionPinStore {
  readonly #local: LocalSessionPins;
  readonly #client: RedisClient;
  readonly #keyPrefix: string;
  readonly #channel: string;
  readonly #origin: string;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #maxSessions: number;
  /** pool\0session → when the key was last written or heard of (ms), oldest first; bounded like the LRU. */
  readonly #fresh = new Map<string, number>();
  readonly #reading = new Set<string>();
  /** pool\0session → pinned while Redis was unreachable: a new pin is claimed at write-back, a move written. */
  readonly #unwritten = new Map<string, { model: string; moved: boolean }>();

  constructor(options: SharedSessionPinsOptions) {
    this.#maxSessions = options.maxSessions ?? MAX_SESSIONS;
    this.#local = new LocalSessionPins(this.#maxSessions);
    this.#client = options.client;
    this.#keyPrefix = options.keyPrefix;
    this.#channel = options.channel;
    this.#origin = options.origin;
    this.#clock = options.clock;
    this.#ttlMs = options.ttlMs ?? SESSION_PIN_TTL_MS;
  }

  get channel(): string {
    return this.#channel;
  }

  get(pool: string, session: string): string | undefined {
    const model = this.#local.get(pool, session);
    if (model === undefined) this.#read(pool, session);
    return model;
  }

  peek(pool: string, session: string): string | undefined {
    return this.#local.peek(pool, session);
  }

  size(pool: string): number {
    return this.#local.size(pool);
  }

  pin(pool: string, session: string, model: string, previous: string | undefined): void {
    const current = this.#local.peek(pool, session);
    // Changed since the request was ordered (another instance's message, the background read): that pin wins.
    if (current !== undefined && current !== previous) return;
    this.#local.set(pool, session, model);
    const id = `${pool}\0${session}`;
    if (!this.#client.up) {
      if (previous !== model) this.#remember(id, model, previous !== undefined);
      return;
    }
    if (previous === undefined) void this.#claim(pool, session, model);
    else if (previous !== model) void this.#move(pool, session, model);
    // Kept: refresh the idle TTL now and then; the claim also re-creates a key that expired meanwhile.
    else if (this.#clock.now() - (this.#fresh.get(id) ?? -Infinity) >= this.#ttlMs / 4) void this.#claim(pool, session, model);
  }

  /** A message on the pin channel: another instance's pin enters this one's LRU. */
  onMessage(text: string): void {
    let message: Partial<PinMessage>;
    try {
      message = JSON.parse(text) as Partial<PinMessage>;
    } catch {
      return;
    }
    const { origin, pool, session, model } = message;
    if (origin === this.#origin || typeof pool !== 'string' || typeof session !== 'string' || typeof model !== 'string') return;
    this.#local.set(pool, session, model);
    this.#touch(`${pool}\0${session}`);
  }

  /**
   * Redis reachable again: write back (and publish) what was pinned meanwhile. A move overwrites; a new pin
   * is claimed, so a session another instance pinned meanwhile keeps that pin everywhere.
   */
  async resync(): Promise<void> {
    const unwritten = [...this.#unwritten];
    this.#unwritten.clear();
    await Promise.all(unwritten.map(([id, { model, moved }]) => {
      const cut = id.indexOf('\0'); // pool names never hold a NUL; session ids might
      const [pool, session] = [id.slice(0, cut), id.slice(cut + 1)];
      // Pinned again since (a message, a newer move): only the pin in force is written.
      if (this.#local.peek(pool, session) !== model) return Promise.resolve();
      return moved ? this.#move(pool, session, model) : this.#claim(pool, session, model);
    }));
  }

  #key(pool: string, session: string): string {
    return `${this.#keyPrefix}${pool}:${session}`;
  }

  #message(pool: string, session: string, model: string): string {
    const message: PinMessage = { origin: this.#origin, pool, session, model };
    return JSON.stringify(message);
  }

  /** Resolves when answered (never rejects: a failed claim is remembered for write-back). */
  #claim(pool: string, session: string, model: string): Promise<void> {
    const id = `${pool}\0${session}`;
    this.#touch(id);
    return this.#client.evalScript(CLAIM, [this.#key(pool, session)], [model, this.#ttlMs, this.#channel, this.#message(pool, session, model)])
      .then((reply) => {
        // Another instance pinned the session first: adopt its pin unless this one moved it since.
        if (typeof reply === 'string' && reply !== model && this.#local.peek(pool, session) === model) this.#local.set(pool, session, reply);
      })
      .catch(() => this.#remember(id, model, false));
  }

  async #move(pool: string, session: string, model: string): Promise<void> {
    const id = `${pool}\0${session}`;
    this.#touch(id);
    // Pipelined on one connection: the key is written before the others hear of it.
    const set = this.#client.send(['SET', this.#key(pool, session), model, 'PX', this.#ttlMs]);
    const publish = this.#client.send(['PUBLISH', this.#channel, this.#message(pool, session, model)]);
    await Promise.all([set, publish]).catch(() => this.#remember(id, model, true));
  }

  #read(pool: string, session: string): void {
    const id = `${pool}\0${session}`;
    if (this.#reading.has(id) || this.#reading.size >= MAX_READS || !this.#client.up) return;
    this.#reading.add(id);
    this.#client.send(['GET', this.#key(pool, session)])
      .then((reply) => {
        if (typeof reply !== 'string' || this.#local.peek(pool, session) !== undefined) return;
        this.#local.set(pool, session, reply);
        this.#touch(id);
      })
      .catch(() => {})
      .finally(() => this.#reading.delete(id));
  }

  #touch(id: string): void {
    this.#fresh.delete(id);
    this.#fresh.set(id, this.#clock.now());
    if (this.#fresh.size > this.#maxSessions) {
      const oldest = this.#fresh.keys().next();
      if (oldest.done !== true) this.#fresh.delete(oldest.value);
    }
  }

  #remember(id: string, model: string, moved: boolean): void {
    // A new pin moved again before write-back stays a move; a move re-pinned stays a move.
    const wasMoved = this.#unwritten.get(id)?.moved === true;
    this.#unwritten.delete(id);
    this.#unwritten.set(id, { model, moved: moved || wasMoved });
    if (this.#unwritten.size > MAX_UNWRITTEN) {
      const oldest = this.#unwritten.keys().next();
      if (oldest.done !== true) this.#unwritten.delete(oldest.value);
    }
  }
}
