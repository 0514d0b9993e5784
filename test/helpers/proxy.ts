// Helpers for tests of the proxy server: an in-process ProxyServer on 127.0.0.1:0 and a node:http client
// that returns status, headers and body (and never throws on a non-2xx).
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { ModelMesh } from '../../src/mesh/mesh.ts';
import { ProxyServer } from '../../src/proxy/proxy-server.ts';
import type { Logger } from '../../src/log.ts';
import type { RequestEvent } from '../../src/mesh/events.ts';

export interface StartedProxy {
  url: string;
  port: number;
  server: ProxyServer;
  mesh: ModelMesh;
  close(): Promise<void>;
}

/** Lines logged by a capturing logger (msg + fields). */
export interface LogRecord {
  level: string;
  msg: string;
  fields: Record<string, unknown> | undefined;
}

export function captureLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>): void => void records.push({ level, msg, fields });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, records };
}

/**
 * Starts a ProxyServer for a raw mesh.yaml-shaped object. `proxy.host`/`proxy.port` default to
 * 127.0.0.1:0. The caller registers `t.after(() => proxy.close())`.
 */
/** The `request` events `mesh` emits from now on (one routing decision per request), in order. */
export function requestEvents(mesh: ModelMesh): RequestEvent[] {
  const events: RequestEvent[] = [];
  mesh.events.on((e) => {
    if (e.type === 'request') events.push(e);
  });
  return events;
}

export async function startProxy(raw: Record<string, unknown> = {}, options: { logger?: Logger } = {}): Promise<StartedProxy> {
  const proxy = { host: '127.0.0.1', port: 0, ...(raw['proxy'] as Record<string, unknown> | undefined) };
  const mesh = ModelMesh.fromConfig({ ...raw, proxy }, { env: {}, ...(options.logger === undefined ? {} : { logger: options.logger }) });
  const server = new ProxyServer(mesh);
  await server.start();
  const port = server.getStatus().port;
  return { url: `http://127.0.0.1:${port}`, port, server, mesh, close: () => server.stop() };
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** A string/Buffer is sent with Content-Length; an array of chunks is sent chunked. */
  body?: string | Buffer | Buffer[];
  agent?: Agent | false;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** One HTTP request with node:http; resolves with the whole reply. */
export function request(url: string, options: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    const body = options.body;
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** POST a JSON body (Content-Type application/json). */
export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** Asserts an OpenAI-shaped error body: exactly message, type, param, code. Returns the error object. */
export function errorOf(reply: Reply): { message: string; type: string; param: string | null; code: string | null } {
  const err = (reply.json as { error?: unknown } | undefined)?.error as Record<string, unknown> | undefined;
  if (err === undefined || typeof err !== 'object') throw new Error(`not an OpenAI error body: ${reply.body}`);
  const keys = Object.keys(err).sort().join(',');
  if (keys !== 'code,message,param,type') throw new Error(`error keys are ${keys}: ${reply.body}`);
  return err as { message: string; type: string; param: string | null; code: string | null };
}

/** Config for a mesh whose only provider is the built-in simulator (no network, no keys). */
export function simulatedConfig(extra: Record<string, unknown> = {}, latency = '0ms'): Record<string, unknown> {
  return {
    providers: { sim: { connector: 'modelmesh.simulated.v1', latency } },
    models: { 'sim.chat': { provider: 'sim', capabilities: ['chat-completion'] } },
    ...extra,
  };
}
