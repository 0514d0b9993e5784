// What the client limiter (limits.ts) takes and answers: the request it admits, the usage it is told at
// release, the admission or the refusal, and the usage it reports per client.
import type { MeshError } from '../errors.ts';
import type { LimitReason } from './limit-errors.ts';

export interface AdmitRequest {
  /** Prompt tokens plus max_tokens (or the model's output limit): what the request may use at most. */
  estimatedTokens: number;
  /** USD the request is expected to cost, when the caller can tell; 0 when not given. */
  estimatedCost?: number;
}

/** What the upstream reported; all zero (or no argument) for a request that consumed nothing. */
export interface ActualUsage {
  tokensIn: number;
  tokensOut: number;
  cost: number;
}

export interface Admitted {
  ok: true;
  /**
   * The object x-ratelimit-* as of this admission (this request counted) were written into: admit()'s
   * `headersInto` when given (then it holds that object's other headers too), else a new one ({} for a
   * client without rpm/tpm).
   */
  headers: Record<string, string>;
  /** Call exactly once when the request is over (finished, failed or cancelled); later calls do nothing. */
  release(actual?: ActualUsage): void;
}

export interface Rejected {
  ok: false;
  reason: LimitReason;
  /** Seconds until the limit frees up (the `retry-after` sent); 0 when waiting cannot help (a request over tpm). */
  retryAfterSeconds: number;
  /** retry-after and x-ratelimit-* (already on `error.headers`). */
  headers: Record<string, string>;
  /** The 429 to answer with. */
  error: MeshError;
}

export type Admission = Admitted | Rejected;

export interface ClientUsage {
  requests_minute: number;
  tokens_minute: number;
  concurrent: number;
  spend_daily: number;
  spend_monthly: number;
  requests_total: number;
  tokens_in: number;
  tokens_out: number;
  cost_total: number;
  rejections: { rpm: number; tpm: number; concurrency: number; budget: number };
}
