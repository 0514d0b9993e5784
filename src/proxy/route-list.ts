// The proxy's routes (DESIGN §2.1), as data. One place to see every path the server answers.
// Built once per config: `proxy.endpoints` decides which OpenAI routes exist at all (a disabled route is a
// plain 404, as if unknown), and every OpenAI route is also served without `/v1` (an SDK whose base URL
// lacks `/v1` calls `/chat/completions`, openai-wire §8).
import type { OpenAiRoute, ProxyConfig } from '../config/types.ts';
import { adminRouteDefs } from './endpoints/admin.ts';
import { metricsHandler } from './endpoints/metrics.ts';
import { chatCompletions } from './endpoints/chat.ts';
import { embeddings } from './endpoints/embeddings.ts';
import { health, ready } from './endpoints/health.ts';
import { imageGenerations } from './endpoints/images.ts';
import { completions } from './endpoints/completions.ts';
import { imageEdits } from './endpoints/image-edits.ts';
import { moderations } from './endpoints/moderations.ts';
import { getModel, listModels } from './endpoints/models.ts';
import { speech } from './endpoints/speech.ts';
import { transcriptions, translations } from './endpoints/transcriptions.ts';
import type { Handler } from './context.ts';
import { RouteTable, type RouteDef } from './route-table.ts';
import type { ServerView } from './server-view.ts';

/**
 * A handler whose module is imported on its first request, not at startup (issue 16 §5: the Responses and
 * Messages endpoints bring about twenty translator modules that a chat-only deployment never runs). Once
 * loaded, requests go to it directly.
 */
function onFirstUse(load: () => Promise<Handler>): Handler {
  let direct: Handler | null = null;
  return (ctx) => (direct !== null ? direct(ctx) : load().then((h) => (direct = h)(ctx)));
}

const createResponse = onFirstUse(() => import('./endpoints/responses.ts').then((m) => m.createResponse));
const getResponse = onFirstUse(() => import('./endpoints/responses.ts').then((m) => m.getResponse));
const deleteResponse = onFirstUse(() => import('./endpoints/responses.ts').then((m) => m.deleteResponse));
const createMessage = onFirstUse(() => import('./endpoints/messages.ts').then((m) => m.createMessage));
const countMessageTokens = onFirstUse(() => import('./endpoints/messages.ts').then((m) => m.countMessageTokens));

interface OpenAiRouteDef extends RouteDef {
  /** The `proxy.endpoints` entry that enables this route. */
  endpoint: OpenAiRoute;
}

/** The OpenAI-compatible routes, in `/v1` form. */
const OPENAI: readonly OpenAiRouteDef[] = [
  { method: 'POST', path: '/v1/chat/completions', name: 'chat', handler: chatCompletions, endpoint: '/v1/chat/completions' },
  { method: 'POST', path: '/v1/embeddings', name: 'embeddings', handler: embeddings, endpoint: '/v1/embeddings' },
  { method: 'POST', path: '/v1/audio/speech', name: 'speech', handler: speech, endpoint: '/v1/audio/speech' },
  { method: 'POST', path: '/v1/audio/transcriptions', name: 'transcriptions', handler: transcriptions, endpoint: '/v1/audio/transcriptions' },
  { method: 'POST', path: '/v1/audio/translations', name: 'translations', handler: translations, endpoint: '/v1/audio/translations' },
  { method: 'POST', path: '/v1/images/generations', name: 'images', handler: imageGenerations, endpoint: '/v1/images/generations' },
  { method: 'POST', path: '/v1/completions', name: 'completions', handler: completions, endpoint: '/v1/completions' },
  { method: 'POST', path: '/v1/moderations', name: 'moderations', handler: moderations, endpoint: '/v1/moderations' },
  { method: 'POST', path: '/v1/images/edits', name: 'image-edits', handler: imageEdits, endpoint: '/v1/images/edits' },
  { method: 'GET', path: '/v1/models', name: 'models.list', handler: listModels, endpoint: '/v1/models' },
  // `{id+}`: also takes a raw slash, for clients that do not percent-encode `org/model` ids.
  { method: 'GET', path: '/v1/models/{id+}', name: 'models.get', handler: getModel, endpoint: '/v1/models' },
  { method: 'POST', path: '/v1/responses', name: 'responses', handler: createResponse, endpoint: '/v1/responses' },
  { method: 'GET', path: '/v1/responses/{id}', name: 'responses.get', handler: getResponse, endpoint: '/v1/responses' },
  { method: 'DELETE', path: '/v1/responses/{id}', name: 'responses.delete', handler: deleteResponse, endpoint: '/v1/responses' },
  { method: 'POST', path: '/v1/messages', name: 'messages', handler: createMessage, endpoint: '/v1/messages', errorShape: 'anthropic' },
  { method: 'POST', path: '/v1/messages/count_tokens', name: 'messages.count_tokens', handler: countMessageTokens, endpoint: '/v1/messages', errorShape: 'anthropic' },
];

/** Every route the server answers under `proxy` config, for the server described by `server`. */
export function routeDefs(proxy: ProxyConfig, server: ServerView): RouteDef[] {
  const enabled = new Set<string>(proxy.endpoints);
  const defs: RouteDef[] = [];
  for (const { endpoint, ...def } of OPENAI) {
    if (!enabled.has(endpoint)) continue;
    defs.push(def, { ...def, path: def.path.slice('/v1'.length) });
  }

  // Operational routes: no token, answered while draining (probes must see the drain).
  defs.push(
    { method: 'GET', path: '/health', name: 'health', handler: health, auth: 'none', whileDraining: true },
    { method: 'GET', path: '/ready', name: 'ready', handler: ready(server), auth: 'none', whileDraining: true },
  );

  // Prometheus: `GET ${proxy.metrics.path}` when proxy.metrics.enabled; behind the proxy's auth when it is on.
  if (proxy.metrics.enabled) defs.push({ method: 'GET', path: proxy.metrics.path, name: 'metrics', handler: metricsHandler });
  // Admin API: `/mesh/...` with auth: 'admin' (checked against proxy.admin.tokens by the pipeline), only
  // when proxy.admin.tokens is non-empty (DESIGN §2.1: off when none).
  if (proxy.admin.tokens.length > 0) defs.push(...adminRouteDefs());
  return defs;
}

export function buildRouteTable(proxy: ProxyConfig, server: ServerView): RouteTable {
  return new RouteTable(routeDefs(proxy, server));
}
