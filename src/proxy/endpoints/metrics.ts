// GET /metrics (path: proxy.metrics.path): Prometheus text exposition 0.0.4, rendered from the mesh's
// statistics (observability/metrics.ts). Exists only while proxy.metrics.enabled (otherwise a plain 404, as
// if unknown), and sits behind the proxy's bearer auth like the OpenAI routes (route auth 'proxy'):
// configure the scraper with `authorization: {credentials: <token>}` when proxy.auth is on.
import { MeshError } from '../../errors.ts';
import { METRICS_CONTENT_TYPE, renderMetrics } from '../../observability/metrics.ts';
import type { Handler, RequestContext } from '../context.ts';

export const metricsHandler: Handler = async (ctx: RequestContext) => {
  const mesh = ctx.mesh;
  if (!mesh.config.proxy.metrics.enabled) {
    throw new MeshError('not_found', `Invalid URL (${ctx.req.method ?? 'GET'} ${mesh.config.proxy.metrics.path})`, {
      headers: { 'x-should-retry': 'false' },
    });
  }
  const service = mesh.observability;
  // Statistics carry no secret, but labels are config ids an operator may have written a secret into by mistake.
  const body = mesh.redact(renderMetrics({
    mesh: mesh.runtime, stats: service.stats, dropped: service.dropped, httpResponses: service.httpResponses,
    tracing: service.tracing.counters, clients: service.clients,
  }));
  ctx.res.writeHead(200, {
    ...ctx.baseHeaders,
    'content-type': METRICS_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  ctx.res.end(body);
};
