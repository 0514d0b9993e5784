// Responses the proxy produced, kept so `previous_response_id` can continue a conversation and
// GET/DELETE /v1/responses/{id} can answer (issue 14): in memory, bounded in entries, each kept for a TTL.
// The Map's insertion order is also expiry order (one TTL for all), so the oldest entry is always the first
// to expire or to be evicted, and both are O(1) at the head.
// Each entry belongs to the configured client that created it (its name; null for an anonymous caller), and
// only that same owner finds it: for anyone else it is as unknown as an id never stored, so a client can
// neither read, continue nor delete another's conversation, nor learn that the id exists.
import { systemClock, type Clock } from '../../lib/clock.ts';
import { outputMessages } from './response.ts';
import type { ChatMessage, ResponseObject } from './types.ts';

export interface ResponseStoreOptions {
  /** @default 1000 */
  maxEntries?: number;
  /** @default 3_600_000 (one hour) */
  ttlMs?: number;
  clock?: Clock;
}

/** Who a stored response belongs to: the client's name (RequestContext.client), null for an anonymous caller. */
export type ResponseOwner = string | null;

interface Entry {
  response: ResponseObject;
  messages: readonly ChatMessage[];
  owner: ResponseOwner;
  expiresAt: number;
}

export class ResponseStore {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;
  readonly #ttl: number;
  readonly #clock: Clock;

  constructor(options: ResponseStoreOptions = {}) {
    this.#max = Math.max(1, options.maxEntries ?? 1000);
    this.#ttl = options.ttlMs ?? 3_600_000;
    this.#clock = options.clock ?? systemClock;
  }

  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  /**
   * Keep a finished response with the whole conversation up to and including its output, as chat messages
   * (see conversationOf), for `owner` only. Replacing an id moves it to the back.
   */
  put(response: ResponseObject, messages: readonly ChatMessage[], owner: ResponseOwner = null): void {
    this.#sweep();
    this.#entries.delete(response.id);
    this.#entries.set(response.id, { response, messages, owner, expiresAt: this.#clock.now() + this.#ttl });
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
  }

  /** The stored Response object, or null when unknown, expired or `owner`'s not (GET answers 404). */
  get(id: string, owner: ResponseOwner = null): ResponseObject | null {
    return this.#live(id, owner)?.response ?? null;
  }

  /** The conversation to continue from, or null when unknown, expired or not `owner`'s (previous_response_not_found). */
  history(id: string, owner: ResponseOwner = null): readonly ChatMessage[] | null {
    return this.#live(id, owner)?.messages ?? null;
  }

  /** True when the id was stored for `owner` (and not yet expired); another owner's entry stays. */
  delete(id: string, owner: ResponseOwner = null): boolean {
    if (this.#live(id, owner) === null) return false;
    this.#entries.delete(id);
    return true;
  }

  #live(id: string, owner: ResponseOwner): Entry | null {
    const entry = this.#entries.get(id);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(id);
      return null;
    }
    return entry.owner === owner ? entry : null;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [id, entry] of this.#entries) {
      if (entry.expiresAt > now) break;
      this.#entries.delete(id);
    }
  }
}

/** The conversation after a turn: stored history, this turn's input (ChatTranslation.turn), then its output. */
export function conversationOf(history: readonly ChatMessage[] | null, turn: readonly ChatMessage[], response: ResponseObject): ChatMessage[] {
  return [...(history ?? []), ...turn, ...outputMessages(response.output)];
}
