// GET /health (liveness) and GET /ready (readiness), for load balancers, systemd and Kubernetes probes.
// Both are plain status JSON rather than OpenAI objects (probes look at the status code; humans at `status`),
// need no token, and are answered while the server drains.
import type { Handler, RequestContext } from '../context.ts';
import { sendJson } from '../respond.ts';
import type { ServerView } from '../server-view.ts';

const OK = { status: 'ok' } as const;

/** 200 {"status":"ok"} whenever the process can answer at all. */
export const health: Handler = async (ctx: RequestContext) => {
  sendJson(ctx, 200, OK, { 'cache-control': 'no-store' });
};

/**
 * 200 {"status":"ready"} while listening with a loaded config and not draining;
 * 503 {"status":"draining"} (with Connection: close) from the moment stop() begins, so a load balancer
 * takes the instance out of rotation while in-flight requests finish.
 */
export function ready(server: ServerView): Handler {
  return async (ctx: RequestContext) => {
    if (server.draining || !server.listening) {
      sendJson(ctx, 503, { status: server.draining ? 'draining' : 'starting' }, {
        'cache-control': 'no-store', 'retry-after': '1', connection: 'close',
      });
      return;
    }
    sendJson(ctx, 200, { status: 'ready' }, { 'cache-control': 'no-store' });
  };
}
