// Data-plane HTTP client (DESIGN §4 "Upstream transport"): node:http/node:https with one keep-alive Agent
// per provider. Never global fetch here: measured ~5x slower as a proxy hop. Everything that can be
// computed once per provider (URL parts, static headers, agent) is, so a request only merges headers.
import http from 'node:http';
import https from 'node:https';
import type { ClientRequest } from 'node:http';
import type { ProviderTimeouts } from '../../config/types.ts';
import type { ProviderResponse } from '../provider.ts';
import { Exchange, type ExchangeContext } from './exchange.ts';
import type { TransportRequest } from './transport-request.ts';

export type { TransportRequest };

export interface TransportOptions {
  /** Provider id, used in error messages. */
  id: string;
  /** `http(s)://host[:port][/prefix]`; request paths are appended to the prefix. */
  baseUrl: string;
  /** Static headers of every request (auth, preset and operator headers), lower-case names. */
  headers: Readonly<Record<string, string>>;
  timeouts: ProviderTimeouts;
  maxSockets: number;
}

export class Transport {
  readonly #agent: http.Agent;
  readonly #context: ExchangeContext;

  constructor(options: TransportOptions) {
    // The schema accepted base_url as an http(s) URL (config/schema/check.ts httpUrl): not checked again here.
    const url = new URL(options.baseUrl);
    const secure = url.protocol === 'https:';
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets, scheduling: 'lifo' as const };
    const agent = (this.#agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions));
    const send = secure ? https.request : http.request;
    // URL.hostname keeps the brackets of an IPv6 literal; http.request wants the bare address.
    const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const prefix = url.pathname.replace(/\/+$/, '');
    const search = url.search; // URL getters are not free: read once, not per request
    const { headers: fixed, id, timeouts } = options;
    // Headers go to http.request as a flat [name, value, …] array: Node then writes them as given instead of
    // validating and storing each through setHeader (measurable per request). Host is ours to add in that form.
    const fixedPairs: string[] = ['host', url.host];
    for (const [name, value] of Object.entries(fixed)) fixedPairs.push(name, value);
    const open = (r: TransportRequest, body: readonly Buffer[]): ClientRequest => {
      const extra = r.headers;
      let headers: string[];
      if (extra === undefined) headers = fixedPairs.slice();
      else {
        headers = [];
        // Per-request headers win over static ones of the same name.
        for (let i = 0; i < fixedPairs.length; i += 2) if (!Object.hasOwn(extra, fixedPairs[i] as string)) headers.push(fixedPairs[i] as string, fixedPairs[i + 1] as string);
        for (const name in extra) headers.push(name, extra[name] as string);
      }
      if (r.body !== undefined) {
        let length = 0;
        for (const b of body) length += b.length;
        headers.push('content-length', String(length));
      }
      return send({ agent, hostname, port, method: r.method ?? 'POST', path: prefix + r.path + search, headers, setHost: false });
    };
    this.#context = { id, timeouts, open };
  }

  /** One exchange; resolves with a 2xx answer primed per `mode` (provider.ts), rejects with a MeshError. */
  request(r: TransportRequest): Promise<ProviderResponse> {
    return new Promise((resolve, reject) => new Exchange(this.#context, r, { resolve, reject }).start());
  }

  /** Destroys every pooled socket. */
  close(): void {
    this.#agent.destroy();
  }
}

