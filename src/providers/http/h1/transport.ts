// The modelmesh HTTP/1.1 client (DESIGN §4 "Upstream transport"): the same contract as the node:http
// Transport (providers/transport.ts), on net.Socket / tls.connect with our own pool and parser, as undici
// does. Why: node:http's ClientRequest/IncomingMessage machinery was the largest remaining per-request cost
// of a proxied call (issue 16). The OTLP exporter POSTs its batches through it too (tracing/exporter.ts).
import { isIP } from 'node:net';
import type { TransportOptions, TransportRequest } from '../transport.ts';
import type { ProviderResponse } from '../../provider.ts';
import { H1Exchange } from './exchange.ts';
import type { H1Context } from './exchange.ts';
import { Pool } from './pool.ts';
import { RequestHeads } from './request.ts';

/** Idle keep-alive sockets are closed after this (ms); node:http servers close theirs after 5 s. */
const IDLE_SOCKET_TIMEOUT = 4_000;

export class H1Transport {
  readonly #pool: Pool;
  readonly #context: H1Context;

  constructor(options: TransportOptions) {
    // The schema accepted base_url as an http(s) URL (config/schema/check.ts httpUrl): not checked again here.
    const url = new URL(options.baseUrl);
    const secure = url.protocol === 'https:';
    // URL.hostname keeps the brackets of an IPv6 literal; net.connect wants the bare address.
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const servername = isIP(host) === 0 ? host : undefined;
    this.#pool = new Pool({ endpoint: { host, port, secure, servername }, maxSockets: options.maxSockets, idleTimeout: IDLE_SOCKET_TIMEOUT });
    const heads = new RequestHeads(url.host, options.headers, url.pathname.replace(/\/+$/, ''), url.search);
    this.#context = { id: options.id, timeouts: options.timeouts, pool: this.#pool, heads };
  }

  /** One exchange; resolves with a 2xx answer primed per `mode` (provider.ts), rejects with a MeshError. */
  request(r: TransportRequest): Promise<ProviderResponse> {
    return new Promise((resolve, reject) => new H1Exchange(this.#context, r, { resolve, reject }).start());
  }

  /** Destroys every socket, idle and busy. */
  close(): void {
    this.#pool.close();
  }
}
