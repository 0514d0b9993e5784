// What the route handlers may know about the server they run in (readiness, /mesh status), kept apart from
// proxy-server.ts so that endpoints never import the server module (no import cycle).

/** Runtime status of the proxy server (reference/proxy-server-spec.txt `ServerStatus`). */
export interface ServerStatus {
  running: boolean;
  host: string;
  port: number;
  uptime_seconds: number;
  /** Open client sockets (keep-alive idle ones included). */
  active_connections: number;
  /** Requests received since start (every request, whatever its outcome). */
  total_requests: number;
}

export interface ServerView {
  /** True while the server accepts connections. */
  readonly listening: boolean;
  /** True from the start of stop(): new requests get 503, /ready says draining. */
  readonly draining: boolean;
  getStatus(): ServerStatus;
}
