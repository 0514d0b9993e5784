// The errors a client limit answers with, in OpenAI's shape and wording (openai-wire §1): a rate limit is
// 429 `rate_limit_exceeded` with `type` `requests` or `tokens`; a spent budget is 429 `insufficient_quota`,
// which SDKs and LangChain treat as not worth retrying.
import { MeshError } from '../errors.ts';

export type LimitReason = 'rpm' | 'tpm' | 'concurrency' | 'budget_daily' | 'budget_monthly';

export interface LimitDetails {
  client: string;
  reason: LimitReason;
  limit: number;
  used: number;
  requested: number;
  /** Epoch ms the window resets at (budgets). */
  resetAt: number;
  retryAfterMs: number;
  headers: Record<string, string>;
}

function wait(ms: number): string {
  return ms < 1000 ? `${Math.ceil(ms)}ms` : `${Math.ceil(ms / 100) / 10}s`;
}

function usd(amount: number): string {
  return `$${amount.toFixed(amount !== 0 && Math.abs(amount) < 0.01 ? 4 : 2)}`;
}

/** 429 for an over-limit request; the headers carry retry-after and the x-ratelimit-* of the client. */
export function limitError(d: LimitDetails): MeshError {
  const retryAfter = Math.max(1, Math.ceil(d.retryAfterMs / 1000));
  const headers: Record<string, string> = { ...d.headers, 'retry-after': String(retryAfter) };
  const again = `Please try again in ${wait(d.retryAfterMs)}.`;
  switch (d.reason) {
    case 'rpm':
      headers['retry-after-ms'] = String(Math.ceil(d.retryAfterMs));
      return new MeshError(
        'rate_limit_exceeded',
        `Rate limit reached for client ${d.client} on requests per min (RPM): Limit ${d.limit}, Used ${d.used}, Requested ${d.requested}. ${again}`,
        { type: 'requests', headers },
      );
    case 'tpm':
      if (d.requested > d.limit) {
        // Waiting cannot help: the request alone is over the limit.
        return new MeshError(
          'rate_limit_exceeded',
          `Request too large for client ${d.client} on tokens per min (TPM): Limit ${d.limit}, Requested ${d.requested}. ` +
            'The input or output tokens must be reduced in order to run successfully.',
          { type: 'tokens', headers: { ...d.headers, 'x-should-retry': 'false' } },
        );
      }
      headers['retry-after-ms'] = String(Math.ceil(d.retryAfterMs));
      return new MeshError(
        'rate_limit_exceeded',
        `Rate limit reached for client ${d.client} on tokens per min (TPM): Limit ${d.limit}, Used ${d.used}, Requested ${d.requested}. ${again}`,
        { type: 'tokens', headers },
      );
    case 'concurrency':
      return new MeshError(
        'rate_limit_exceeded',
        `Concurrency limit reached for client ${d.client}: Limit ${d.limit} requests in flight. Please try again when one of them has finished.`,
        { type: 'requests', headers },
      );
    default: {
      const period = d.reason === 'budget_daily' ? 'daily' : 'monthly';
      return new MeshError(
        'insufficient_quota',
        `You exceeded your current quota: client ${d.client} has spent ${usd(d.used)} of its ${period} budget of ${usd(d.limit)}. ` +
          `It resets at ${new Date(d.resetAt).toISOString()}; the proxy operator can raise clients.${d.client}.budget.${period}.`,
        { headers: { ...headers, 'x-should-retry': 'false' } },
      );
    }
  }
}
