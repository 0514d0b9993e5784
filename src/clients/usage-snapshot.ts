// The plain-data form of per-client usage that survives a restart (issue 12 §5): the storage service writes
// ClientLimiter.snapshot() and hands it back to restore(). Read defensively: the file may be old or edited.
import { isMapping } from '../config/schema/check.ts';

export interface ClientTotals {
  requests_total: number;
  tokens_in: number;
  tokens_out: number;
  cost_total: number;
  rejections: { rpm: number; tpm: number; concurrency: number; budget: number };
}

export interface SavedClient extends ClientTotals {
  /** Spend of the UTC day / month starting at the given epoch ms. */
  spend: { day_start: number; daily: number; month_start: number; monthly: number };
}

export interface UsageSnapshot {
  version: 1;
  taken_at: number;
  clients: Record<string, SavedClient>;
}

export function emptyTotals(): ClientTotals {
  return { requests_total: 0, tokens_in: 0, tokens_out: 0, cost_total: 0, rejections: { rpm: 0, tpm: 0, concurrency: 0, budget: 0 } };
}

function count(record: Readonly<Record<string, unknown>>, key: string): number {
  const value = Object.hasOwn(record, key) ? record[key] : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Whether `snapshot` is one readSnapshot can read (this version, a mapping of clients). */
export function readableSnapshot(snapshot: unknown): boolean {
  return isMapping(snapshot) && snapshot['version'] === 1 && isMapping(snapshot['clients']);
}

/** The well-formed entries of a snapshot; anything else (another version, not a mapping) reads as none. */
export function readSnapshot(snapshot: unknown): [string, SavedClient][] {
  if (!isMapping(snapshot) || snapshot['version'] !== 1 || !isMapping(snapshot['clients'])) return [];
  const out: [string, SavedClient][] = [];
  for (const [name, entry] of Object.entries(snapshot['clients'])) {
    if (!isMapping(entry)) continue;
    const rejections = isMapping(entry['rejections']) ? entry['rejections'] : {};
    const spend = isMapping(entry['spend']) ? entry['spend'] : {};
    out.push([
      name,
      {
        requests_total: count(entry, 'requests_total'),
        tokens_in: count(entry, 'tokens_in'),
        tokens_out: count(entry, 'tokens_out'),
        cost_total: count(entry, 'cost_total'),
        rejections: {
          rpm: count(rejections, 'rpm'),
          tpm: count(rejections, 'tpm'),
          concurrency: count(rejections, 'concurrency'),
          budget: count(rejections, 'budget'),
        },
        spend: {
          day_start: count(spend, 'day_start'),
          daily: count(spend, 'daily'),
          month_start: count(spend, 'month_start'),
          monthly: count(spend, 'monthly'),
        },
      },
    ]);
  }
  return out;
}
