// Statistics per configured client (issue 12 §4): requests by outcome, tokens in and out, cost, and requests
// refused before routing, by reason. Keyed by client name, never by key: names come from the config (request
// events carry the name of a configured client; rejections are counted by the pipeline under a configured
// name, or under "" for a key nobody has), so the series are bounded by the clients ever configured.
import type { RequestEvent } from '../mesh/events.ts';

/** Why a request of a client was refused before any upstream call. */
export type ClientRejection = 'unknown_key' | 'model_not_allowed' | 'rpm' | 'tpm' | 'concurrency' | 'budget_daily' | 'budget_monthly';

export const CLIENT_REJECTIONS: readonly ClientRejection[] = [
  'unknown_key', 'model_not_allowed', 'rpm', 'tpm', 'concurrency', 'budget_daily', 'budget_monthly',
];

/** The client name rejections of unknown keys count under. */
export const UNKNOWN_CLIENT = '';

export interface ClientCounts {
  requests: { success: number; failure: number; cancelled: number };
  tokens_in: number;
  tokens_out: number;
  cost: number;
  rejections: Record<ClientRejection, number>;
}

function emptyCounts(): ClientCounts {
  const rejections = {} as Record<ClientRejection, number>;
  for (const reason of CLIENT_REJECTIONS) rejections[reason] = 0;
  return { requests: { success: 0, failure: 0, cancelled: 0 }, tokens_in: 0, tokens_out: 0, cost: 0, rejections };
}

export class ClientStats {
  readonly #byName = new Map<string, ClientCounts>();

  /** A routed request's event (O(1)); anonymous requests (client null) are not counted here. */
  request(e: RequestEvent): void {
    if (e.client === null || e.client === undefined) return;
    const c = this.#counts(e.client);
    c.requests[e.outcome]++;
    c.tokens_in += e.tokens_in;
    c.tokens_out += e.tokens_out;
    c.cost += e.cost;
  }

  /** A request refused before routing (401 unknown key, 404 not allowed, 429 over a limit). */
  reject(client: string, reason: ClientRejection): void {
    this.#counts(client).rejections[reason]++;
  }

  get(client: string): ClientCounts | undefined {
    return this.#byName.get(client);
  }

  entries(): IterableIterator<[string, ClientCounts]> {
    return this.#byName.entries();
  }

  /** The statistics stream's records: one per client seen, `scope: 'client'`. */
  records(ts: string, uptimeMs: number): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [id, c] of this.#byName) {
      if (id === UNKNOWN_CLIENT) continue;
      const { success, failure, cancelled } = c.requests;
      out.push({
        kind: 'statistics', ts, scope: 'client', id, uptime_ms: uptimeMs,
        requests_total: success + failure + cancelled, requests_success: success, requests_failed: failure,
        tokens_in: c.tokens_in, tokens_out: c.tokens_out, cost_total: c.cost, rejections: { ...c.rejections },
      });
    }
    return out;
  }

  #counts(client: string): ClientCounts {
    let c = this.#byName.get(client);
    if (c === undefined) this.#byName.set(client, (c = emptyCounts()));
    return c;
  }
}
