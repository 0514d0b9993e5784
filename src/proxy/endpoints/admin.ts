// The admin API (DESIGN §2.1): `/mesh/...`, protected by its own `proxy.admin.tokens` (Bearer, compared in
// constant time) and absent when none are set — then every admin path answers 404 like an unknown route.
//   GET  /mesh/ui                              the status page (issue 17): a data-free document, no token needed
//   GET  /mesh/ui/data                         the JSON the page draws (admin token)
//   GET  /mesh/status                          pools, models, providers: state, reasons, until, counters
//   GET  /mesh/models[/{id}], /mesh/providers[/{id}]  the same, one part or one entry
//   POST /mesh/models/{id}/activate|deactivate manual hold of one model (every pool)
//   POST /mesh/providers/{id}/activate|deactivate  the same for every model of a provider
//   GET  /mesh/clients[/{id}]                  configured clients: limits, usage per window, spend (no keys)
// The pipeline checks `auth: 'admin'` routes; the handlers check again (one SHA-256), so the API stays
// closed even if a route were wired without that flag. The status JSON goes through mesh.redact().
import { clientsStatus, oneClient } from '../../clients/status.ts';
import { MeshError } from '../../errors.ts';
import { meshStatus, oneModel, oneProvider, setModel, setProvider } from '../../mesh/admin.ts';
import { uiClients, uiData, type UiClientInput } from '../../observability/ui-data.ts';
import { BearerAuth } from '../auth.ts';
import type { Handler, RequestContext } from '../context.ts';
import type { RouteDef } from '../route-table.ts';

/** One checker per token list (the list object changes only with a config reload). */
const checkers = new WeakMap<readonly string[], BearerAuth>();

function requireAdmin(ctx: RequestContext): void {
  const tokens = ctx.mesh.config.proxy.admin.tokens;
  if (tokens.length === 0) {
    const path = (ctx.req.url ?? '').split('?')[0] ?? '';
    throw new MeshError('not_found', `Invalid URL (${ctx.req.method ?? 'GET'} ${path.slice(0, 200)})`, { headers: { 'x-should-retry': 'false' } });
  }
  let auth = checkers.get(tokens);
  if (auth === undefined) {
    auth = new BearerAuth(tokens, { admin: true });
    checkers.set(tokens, auth);
  }
  auth.verify(ctx.req.headers.authorization);
}

/** Admin answers are live state: never cached by anything in between. */
const NO_STORE = { 'cache-control': 'no-store' } as const;

function sendRedacted(ctx: RequestContext, body: unknown): void {
  const text = ctx.mesh.redact(JSON.stringify(body));
  const headers = { ...ctx.baseHeaders, ...NO_STORE, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) };
  ctx.res.writeHead(200, headers);
  ctx.res.end(text);
}

function view(render: (ctx: RequestContext) => unknown): Handler {
  return async (ctx) => {
    requireAdmin(ctx);
    sendRedacted(ctx, render(ctx));
  };
}

export const getMeshStatus: Handler = view((ctx) => meshStatus(ctx.mesh.runtime));

const id = (ctx: RequestContext): string => ctx.params['id'] ?? '';

function modelAction(action: 'activate' | 'deactivate'): Handler {
  return async (ctx) => {
    requireAdmin(ctx);
    ctx.req.resume(); // any body is ignored; drain it so the connection stays reusable
    const status = setModel(ctx.mesh.runtime, id(ctx), action);
    ctx.logger.info(`admin: model ${action}d`, { request_id: ctx.requestId, model: status.id });
    sendRedacted(ctx, { object: 'mesh.model', ...status });
  };
}

function providerAction(action: 'activate' | 'deactivate'): Handler {
  return async (ctx) => {
    requireAdmin(ctx);
    ctx.req.resume();
    const status = setProvider(ctx.mesh.runtime, id(ctx), action);
    ctx.logger.info(`admin: provider ${action}d`, { request_id: ctx.requestId, provider: status.id });
    sendRedacted(ctx, { object: 'mesh.provider', ...status });
  };
}

/** Per-client usage for the status page: GET /mesh/clients in the page's shape, with failed requests. */
export function clientUsageForUi(ctx: RequestContext): UiClientInput[] {
  const { data } = clientsStatus(ctx.mesh.clients, ctx.mesh.limiter, ctx.mesh.runtime.clock.now());
  const stats = ctx.mesh.observability.clients;
  return uiClients(data, (name) => {
    const c = stats.get(name);
    if (c === undefined) return undefined;
    const { success, failure, cancelled } = c.requests;
    const r = c.rejections;
    // Refused by the client's own limits (a 404 for a model it may not use is not a limit).
    return { requests: success + failure + cancelled, failed: failure, refused: r.rpm + r.tpm + r.concurrency + r.budget_daily + r.budget_monthly };
  });
}

export const getUiData: Handler = view((ctx) => {
  const o = ctx.mesh.observability;
  return uiData({
    status: meshStatus(ctx.mesh.runtime), series: o.timeseries.all(), bucketMs: o.timeseries.bucketMs,
    decisions: o.decisions.list(), clients: clientUsageForUi(ctx),
  });
});

/** Built once: the document is the same for every request (it holds no data, only the page's code). */
let page: { body: Buffer; headers: Record<string, string> } | null = null;

/**
 * GET /mesh/ui: served without the token (a browser cannot send a Bearer header when navigating; the page
 * asks for the token and sends it on its data and action calls), but only while the admin API is on.
 */
export const getUiPage: Handler = async (ctx) => {
  if (ctx.mesh.config.proxy.admin.tokens.length === 0) {
    throw new MeshError('not_found', 'Invalid URL (GET /mesh/ui)', { headers: { 'x-should-retry': 'false' } });
  }
  ctx.req.resume();
  if (page === null) {
    // Imported on the first visit, not at startup (issue 16 §5): the page's markup, style and script.
    const { statusPage } = await import('../ui/page.ts');
    const { html, headers } = statusPage({ base: '/mesh' });
    page = { body: Buffer.from(html, 'utf8'), headers };
  }
  ctx.res.writeHead(200, { ...ctx.baseHeaders, ...page.headers, 'content-length': String(page.body.length) });
  ctx.res.end(page.body);
};

export interface AdminRoute {
  method: 'GET' | 'POST';
  /** `{id}` is one path segment (model ids contain dots, never slashes). */
  path: string;
  name: string;
  handler: Handler;
  /** `none` only for the status page document (no data in it). @default 'admin' */
  auth?: 'admin' | 'none';
}

export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'GET', path: '/mesh/status', name: 'mesh.status', handler: getMeshStatus },
  { method: 'GET', path: '/mesh/models', name: 'mesh.models', handler: view((ctx) => ({ object: 'list', data: meshStatus(ctx.mesh.runtime).models })) },
  { method: 'GET', path: '/mesh/models/{id}', name: 'mesh.models.get', handler: view((ctx) => ({ object: 'mesh.model', ...oneModel(ctx.mesh.runtime, id(ctx)) })) },
  { method: 'GET', path: '/mesh/providers', name: 'mesh.providers', handler: view((ctx) => ({ object: 'list', data: meshStatus(ctx.mesh.runtime).providers })) },
  { method: 'GET', path: '/mesh/providers/{id}', name: 'mesh.providers.get', handler: view((ctx) => ({ object: 'mesh.provider', ...oneProvider(ctx.mesh.runtime, id(ctx)) })) },
  { method: 'GET', path: '/mesh/clients', name: 'mesh.clients', handler: view((ctx) => clientsStatus(ctx.mesh.clients, ctx.mesh.limiter, ctx.mesh.runtime.clock.now())) },
  { method: 'GET', path: '/mesh/clients/{id}', name: 'mesh.clients.get', handler: view((ctx) => oneClient(ctx.mesh.clients, ctx.mesh.limiter, id(ctx), ctx.mesh.runtime.clock.now())) },
  { method: 'POST', path: '/mesh/models/{id}/activate', name: 'mesh.models.activate', handler: modelAction('activate') },
  { method: 'POST', path: '/mesh/models/{id}/deactivate', name: 'mesh.models.deactivate', handler: modelAction('deactivate') },
  { method: 'POST', path: '/mesh/providers/{id}/activate', name: 'mesh.providers.activate', handler: providerAction('activate') },
  { method: 'POST', path: '/mesh/providers/{id}/deactivate', name: 'mesh.providers.deactivate', handler: providerAction('deactivate') },
  { method: 'GET', path: '/mesh/ui', name: 'mesh.ui', handler: getUiPage, auth: 'none' },
  { method: 'GET', path: '/mesh/ui/data', name: 'mesh.ui.data', handler: getUiData },
];

/** The admin routes as route-table rows (auth: 'admin'): add them only when proxy.admin.tokens is non-empty. */
export function adminRouteDefs(): RouteDef[] {
  return ADMIN_ROUTES.map((r) => ({ ...r, auth: r.auth ?? 'admin' }));
}
