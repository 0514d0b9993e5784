// `modelmesh.webhook.v1`: records POSTed as JSON arrays of up to `batch_size` records with global `fetch`
// (a control-plane call, DESIGN §4 "Upstream transport"). Nothing on the request path waits for it: the
// listener only queues (bounded, see sink.ts), and delivery runs in the background, one batch at a time.
//
// Failures (connection refused, timeout, 5xx, 408, 429) are retried with exponential backoff, a bounded
// number of times; then the batch is dropped and counted. After a batch was dropped the hook is presumed
// down: later batches get one attempt each until one succeeds, so an outage drains the queue quickly
// instead of stacking retries. Other 4xx are not retried (the hook rejected the payload).
import { sleep } from '../../lib/clock.ts';
import { redactUrl } from '../../lib/redact-url.ts';
import { message, Sink, type QueuedRecord, type SinkDeps, type SinkOptions } from './sink.ts';

export interface WebhookOptions {
  url: string;
  headers: Readonly<Record<string, string>>;
  batchSize: number;
  flushInterval: number;
  /** Per-POST timeout. @default 10_000 */
  timeout?: number;
  /** Retries after the first attempt. @default 4 */
  retries?: number;
  /** First backoff delay, doubled per retry up to `maxBackoff`. @default 250 */
  backoff?: number;
  /** @default 5_000 */
  maxBackoff?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export class WebhookSink extends Sink {
  readonly url: string;
  readonly #headers: Record<string, string>;
  readonly #timeout: number;
  readonly #retries: number;
  readonly #backoff: number;
  readonly #maxBackoff: number;
  readonly #fetch: typeof fetch;
  /** Aborts in-flight POSTs and backoff sleeps when close() runs out of patience. */
  #abort = new AbortController();
  #down = false;
  /** Batches dropped after their retries ran out (records are counted through deps.onDrop). */
  failedBatches = 0;

  constructor(deps: SinkDeps, options: WebhookOptions) {
    const base: Omit<SinkOptions, 'threshold'> = { flushInterval: options.flushInterval, batchSize: options.batchSize };
    super(deps, { ...base, threshold: options.batchSize });
    this.url = options.url;
    this.#headers = { ...options.headers, 'content-type': 'application/json' };
    this.#timeout = options.timeout ?? 10_000;
    this.#retries = options.retries ?? 4;
    this.#backoff = options.backoff ?? 250;
    this.#maxBackoff = options.maxBackoff ?? 5_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  override start(): void {
    this.#abort = new AbortController();
    super.start();
  }

  /** Gives the last delivery at most `graceMs`, then aborts what is still in flight (dropped, counted). */
  async closeWithin(graceMs: number): Promise<void> {
    const timer = this.deps.clock.setTimeout(() => this.#abort.abort(new Error('observability shutdown deadline')), graceMs);
    try {
      await this.close();
    } finally {
      timer.cancel();
    }
  }

  protected override async deliver(items: QueuedRecord[]): Promise<void> {
    const lines = this.lines(items);
    if (lines.length === 0) return;
    const body = `[${lines.join(',')}]`;
    let lastError = '';
    const attempts = this.closing || this.#down ? 1 : 1 + this.#retries;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        try {
          await sleep(this.deps.clock, Math.min(this.#maxBackoff, this.#backoff * 2 ** (attempt - 1)), this.#abort.signal);
        } catch {
          break; // shutting down
        }
      }
      const outcome = await this.#post(body);
      if (outcome === 'ok') {
        this.#down = false;
        this.delivered += lines.length;
        return;
      }
      lastError = outcome.error;
      if (!outcome.retry || this.#abort.signal.aborted) break;
    }
    this.#down = true;
    this.failedBatches++;
    this.drop(items, `webhook ${redactUrl(this.url)} failed (${lastError})`);
  }

  async #post(body: string): Promise<'ok' | { error: string; retry: boolean }> {
    // One signal for "timed out or shutting down" (AbortSignal.any needs Node 20.3; engines allow 20.0).
    const controller = new AbortController();
    const shutdown = this.#abort.signal;
    const onShutdown = (): void => controller.abort(shutdown.reason);
    if (shutdown.aborted) onShutdown();
    else shutdown.addEventListener('abort', onShutdown, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${this.#timeout} ms`)), this.#timeout);
    timer.unref();
    try {
      const res = await this.#fetch(this.url, { method: 'POST', headers: this.#headers, body, signal: controller.signal });
      await res.body?.cancel().catch(() => undefined); // the answer's body is not needed; free the socket
      if (res.ok) return 'ok';
      return { error: `HTTP ${res.status}`, retry: RETRYABLE.has(res.status) };
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      return { error: cause === undefined ? message(err) : `${message(err)}: ${message(cause)}`, retry: true };
    } finally {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', onShutdown);
    }
  }
}
