// What GET /mesh/clients and /mesh/clients/{name} answer (issue 12 §5): each client's limits, its usage in
// the current minute, UTC day and UTC month, spend and totals. Never key material beyond `key_id` (the first
// 8 hex digits of the key's digest, enough to tell two keys apart).
import { MeshError } from '../errors.ts';
import type { ClientLimiter } from './limits.ts';
import type { Client, ClientRegistry } from './registry.ts';
import { dayWindow, minuteWindow, monthWindow } from './windows.ts';

export interface ClientStatus {
  object: 'mesh.client';
  name: string;
  key_id: string;
  /** The allow-list as configured; null: every pool, alias and model. */
  pools: string[] | null;
  limits: { rpm: number | null; tpm: number | null; max_concurrent: number | null; budget: { daily: number | null; monthly: number | null } };
  metadata: Record<string, string>;
  usage: {
    minute: { start: string; reset_at: string; requests: number; tokens: number };
    day: { start: string; reset_at: string; spend: number; remaining: number | null };
    month: { start: string; reset_at: string; spend: number; remaining: number | null };
    concurrent: number;
  };
  totals: { requests: number; tokens_in: number; tokens_out: number; cost: number };
  rejections: { rpm: number; tpm: number; concurrency: number; budget: number };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * USD as shown, to the nano-dollar: a float sum of costs (0.1 sixteen times is 1.6000000000000003) reads as
 * the decimal it stands for, while one token at the cheapest price still shows. Only here, at display: the
 * sums the limiter keeps and a budget is checked against stay as added, so nothing rounded is added again.
 */
const usd = (amount: number): number => Math.round(amount * 1e9) / 1e9;
const remaining = (limit: number | null, spent: number): number | null => (limit === null ? null : usd(Math.max(0, limit - spent)));

export function clientStatus(client: Client, limiter: ClientLimiter, now: number): ClientStatus {
  const u = limiter.usage(client);
  const c = client.config;
  const minute = minuteWindow(now);
  const day = dayWindow(now);
  const month = monthWindow(now);
  return {
    object: 'mesh.client',
    name: client.name,
    key_id: client.keyId,
    pools: c.pools === null ? null : [...c.pools],
    limits: { rpm: c.rpm, tpm: c.tpm, max_concurrent: c.max_concurrent, budget: { daily: c.budget.daily, monthly: c.budget.monthly } },
    metadata: { ...c.metadata },
    usage: {
      minute: { start: iso(minute.start), reset_at: iso(minute.end), requests: u.requests_minute, tokens: u.tokens_minute },
      day: { start: iso(day.start), reset_at: iso(day.end), spend: usd(u.spend_daily), remaining: remaining(c.budget.daily, u.spend_daily) },
      month: { start: iso(month.start), reset_at: iso(month.end), spend: usd(u.spend_monthly), remaining: remaining(c.budget.monthly, u.spend_monthly) },
      concurrent: u.concurrent,
    },
    totals: { requests: u.requests_total, tokens_in: u.tokens_in, tokens_out: u.tokens_out, cost: usd(u.cost_total) },
    rejections: u.rejections,
  };
}

/** GET /mesh/clients */
export function clientsStatus(clients: ClientRegistry, limiter: ClientLimiter, now: number): { object: 'list'; data: ClientStatus[] } {
  return { object: 'list', data: clients.list().map((client) => clientStatus(client, limiter, now)) };
}

/** GET /mesh/clients/{name}: 404 for a name not configured (now). */
export function oneClient(clients: ClientRegistry, limiter: ClientLimiter, name: string, now: number): ClientStatus {
  const client = clients.get(name);
  if (client === undefined) {
    throw new MeshError('not_found', `The client \`${name}\` is not configured. See GET /mesh/clients.`, {
      param: 'name', headers: { 'x-should-retry': 'false' },
    });
  }
  return clientStatus(client, limiter, now);
}
