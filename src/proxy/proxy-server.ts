// ProxyServer (reference/proxy-server-spec.txt, DESIGN §2.2): the node:http server around the pipeline.
// start() binds proxy.host:proxy.port; stop() drains (style principle 11): stop accepting, mark draining
// (new requests 503 + Connection: close, /ready 503), close idle keep-alive sockets at once, let in-flight
// requests finish within proxy.drain_timeout, then cut what is left, flush the mesh, release the port.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { MeshConfig, ProxyConfig } from '../config/types.ts';
import type { ModelMesh } from '../mesh/mesh.ts';
import { UNMATCHED_ROUTE } from '../observability/http-responses.ts';
import { answerClientError } from './client-error.ts';
import { Pipeline } from './pipeline.ts';
import type { ServerStatus, ServerView } from './server-view.ts';

export type { ServerStatus } from './server-view.ts';

/** Header count cap (node:http default 2000): the SDKs send ~15; a few hundred is plenty for proxies in front. */
const MAX_HEADERS_COUNT = 200;
/**
 * How often node:http checks proxy.timeouts.headers/request (its default, 30 s, made them fire up to 30 s late:
 * issue 11.5). Walking the connection list twice a second costs next to nothing.
 */
const TIMEOUT_CHECK_MS = 500;
/** While draining, how often idle sockets are swept (a keep-alive socket turns idle when its response ends). */
const DRAIN_SWEEP_MS = 25;
/**
 * While draining, how long a socket that has not sent a byte yet is kept: a client that connected just before
 * the stop has its request on the wire, and destroying the socket at once reset it unanswered (fault suite);
 * given a moment it gets its answer (503 server_draining) instead. A pre-opened idle socket goes after this.
 */
const SILENT_GRACE_MS = 250;
/** After the drain cut, how long handlers get to see their client gone and wind down before the mesh flushes. */
const CUT_GRACE_MS = 1000;

export class ProxyServer implements ServerView {
  readonly #mesh: ModelMesh;
  readonly #pipeline: Pipeline;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port: number;
  #host: string;
  #startedAt = 0;
  #listening = false;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #starting: Promise<void> | undefined;

  constructor(mesh: ModelMesh) {
    this.#mesh = mesh;
    this.#host = mesh.config.proxy.host;
    this.#port = mesh.config.proxy.port;
    this.#pipeline = new Pipeline(mesh, this);
  }

  get listening(): boolean {
    return this.#listening;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Binds proxy.host:proxy.port (port 0: an ephemeral port, see getStatus().port); resolves when listening.
   * Concurrent calls share one start (a second server would leak, or fail with EADDRINUSE).
   */
  start(): Promise<void> {
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    // A stop() in progress finishes first: its mesh.shutdown() must not run after our mesh.start().
    if (this.#stopping !== undefined) await this.#stopping.catch(() => undefined);
    if (this.#server !== undefined) return;
    const proxy = this.#mesh.config.proxy;
    await this.#mesh.start();
    const server = createServer({
      requestTimeout: proxy.timeouts.request,
      headersTimeout: proxy.timeouts.headers,
      keepAliveTimeout: proxy.timeouts.keep_alive,
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      // The pipeline answers a missing Host itself, OpenAI-shaped (node:http's answer has no body).
      requireHostHeader: false,
    });
    applyTimeouts(server, proxy);
    server.maxHeadersCount = MAX_HEADERS_COUNT;
    server.on('request', this.#pipeline.handle);
    // Answer `Expect: 100-continue` only when a handler starts reading (body.ts), so an oversized
    // Content-Length gets its 413 before the client sends the body.
    server.on('checkContinue', this.#pipeline.handle);
    // Any other Expect value: the pipeline answers 417 OpenAI-shaped (node:http's own has no body).
    server.on('checkExpectation', this.#pipeline.handle);
    const responses = this.#mesh.observability.httpResponses;
    server.on('clientError', (err: Error, socket: Socket) => answerClientError(err, socket, (status) => responses.record(UNMATCHED_ROUTE, status)));
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(proxy.port, proxy.host, () => {
          server.off('error', onError);
          resolve();
        });
      });
    } catch (err) {
      // EADDRINUSE, EACCES…: undo mesh.start() so timers do not keep the process alive.
      await this.#mesh.shutdown();
      throw err;
    }
    server.on('error', (err) => this.#mesh.logger.error('server error', { error: err }));
    this.#server = server;
    this.#host = proxy.host;
    this.#port = (server.address() as AddressInfo).port;
    this.#startedAt = performance.now();
    this.#listening = true;
    this.#draining = false;
    this.#pipeline.totalRequests = 0;
    this.#mesh.logger.info('listening', { host: this.#host, port: this.#port });
  }

  /** Graceful stop; idempotent (a second call waits for the first). */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    // A start() in progress completes first: otherwise it would bind after this stop() resolved.
    if (this.#starting !== undefined) await this.#starting.catch(() => undefined);
    const server = this.#server;
    if (server === undefined) return;
    const drainMs = this.#mesh.config.proxy.drain_timeout;
    this.#draining = true;
    this.#mesh.logger.info('stopping', { active_connections: this.#sockets.size, drain_timeout_ms: drainMs });
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    const silentUntil = performance.now() + SILENT_GRACE_MS;
    this.#closeIdle(server, silentUntil);
    // In-flight requests finish; their sockets turn idle afterwards and are swept here.
    const deadline = performance.now() + drainMs;
    while (this.#sockets.size > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_SWEEP_MS, Math.max(1, deadline - performance.now()))));
      this.#closeIdle(server, silentUntil);
    }
    if (this.#sockets.size > 0) {
      this.#mesh.logger.warn('drain timeout: closing remaining connections', { active_connections: this.#sockets.size });
      server.closeAllConnections();
      for (const socket of this.#sockets) socket.destroy(); // sockets not yet parsed into a request
    }
    await closed;
    // The server's 'close' comes as soon as the last socket is destroyed, before the sockets' own 'close'
    // (which aborts their requests): wait for those and for the handlers to wind down, so a cut request
    // counts as cancelled rather than as an upstream failure when mesh.shutdown() closes the upstream
    // sockets under it, and active_connections is 0 once stop() resolves.
    await Promise.all([...this.#sockets].map((socket) => once(socket, 'close')));
    await this.#pipeline.settled(CUT_GRACE_MS);
    this.#listening = false;
    this.#server = undefined;
    try {
      await this.#mesh.shutdown();
    } finally {
      this.#draining = false;
      this.#mesh.logger.info('stopped', { total_requests: this.#pipeline.totalRequests });
    }
  }

  /** Keep-alive sockets between requests (node:http's idle list), and sockets still silent after `silentUntil`. */
  #closeIdle(server: Server, silentUntil: number): void {
    server.closeIdleConnections();
    // node:http counts a connection that has not sent a request yet as busy (its headers timer runs), so a
    // browser's or load balancer's pre-opened socket would hold stop() for the whole drain_timeout.
    if (performance.now() < silentUntil) return;
    for (const socket of this.#sockets) if (socket.bytesRead === 0) socket.destroy();
  }

  getStatus(): ServerStatus {
    const running = this.#listening;
    return {
      running,
      host: this.#host,
      port: this.#port,
      uptime_seconds: running ? Math.round(performance.now() - this.#startedAt) / 1000 : 0,
      active_connections: this.#sockets.size,
      total_requests: this.#pipeline.totalRequests,
    };
  }

  /**
   * Applies a new validated config without dropping connections (SIGHUP): the mesh swaps registry and
   * router, and routes, CORS, tokens and timeouts are rebuilt. host/port need a restart (logged).
   * @throws whatever mesh.reload throws; the old config then stays in force
   */
  reload(config: MeshConfig): void {
    const before = this.#mesh.config.proxy;
    this.#mesh.reload(config);
    this.#pipeline.rebuild();
    const after = config.proxy;
    if (this.#server !== undefined) applyTimeouts(this.#server, after);
    if (after.host !== before.host || after.port !== before.port) {
      this.#mesh.logger.warn('proxy.host/proxy.port changed: restart the server to bind the new address', {
        listening: `${this.#host}:${this.#port}`, configured: `${after.host}:${after.port}`,
      });
    }
  }
}

/** node:http hardening from proxy.timeouts (milliseconds; 0 disables, as in node:http). */
function applyTimeouts(server: Server, proxy: ProxyConfig): void {
  server.requestTimeout = proxy.timeouts.request;
  server.headersTimeout = proxy.timeouts.headers;
  server.keepAliveTimeout = proxy.timeouts.keep_alive;
}
