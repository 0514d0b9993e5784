// The route table (style principle 1): rows `{ method, pattern, keys, handler, name }` scanned in order, and one
// `match` that tells a hit from a known path with the wrong method (405) from an unknown path (404).
// Built once per config (ProxyServer rebuilds it on reload); nothing here runs per request but `match`.
import { MeshError } from '../errors.ts';
import type { Handler } from './context.ts';

/**
 * Who may call a route:
 * - `proxy`: the `proxy.auth` bearer tokens when auth is enabled (the OpenAI routes);
 * - `admin`: the `proxy.admin.tokens` (the `/mesh/...` routes; always required);
 * - `none`: anybody (`/health`, `/ready`).
 */
export type RouteAuth = 'proxy' | 'admin' | 'none';

export interface RouteDef {
  method: string;
  /** `/v1/models/{id}`: `{name}` matches one path segment, `{name+}` the rest of the path (slashes too). */
  path: string;
  /** Stable name for logs and metrics (`chat`, `models.get`). */
  name: string;
  handler: Handler;
  /** @default 'proxy' */
  auth?: RouteAuth;
  /** Served while the server drains (health checks); others get 503 `server_draining`. @default false */
  whileDraining?: boolean;
  /** Errors in Anthropic's shape (the /v1/messages routes); default OpenAI's. */
  errorShape?: ErrorShape;
}

export type ErrorShape = 'openai' | 'anthropic';

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly pattern: RegExp;
  readonly keys: readonly string[];
  readonly name: string;
  readonly handler: Handler;
  readonly auth: RouteAuth;
  readonly whileDraining: boolean;
  readonly errorShape: ErrorShape;
}

export interface RouteMatch {
  readonly route: Route;
  readonly handler: Handler;
  readonly params: Readonly<Record<string, string>>;
}

/** Known path, wrong method: the methods that path answers (for the `Allow` header). */
export interface MethodMismatch {
  readonly allowed: readonly string[];
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}/g;

/** Compiles `/v1/models/{id}` to an anchored RegExp plus its keys, in order. */
export function compilePath(path: string): { pattern: RegExp; keys: string[] } {
  const keys: string[] = [];
  let source = '';
  let last = 0;
  for (const m of path.matchAll(PARAM)) {
    source += escapeRegExp(path.slice(last, m.index));
    source += m[2] === '+' ? '(.+)' : '([^/]+)';
    keys.push(m[1] as string);
    last = m.index + m[0].length;
  }
  source += escapeRegExp(path.slice(last));
  return { pattern: new RegExp(`^${source}$`), keys };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** decodeURIComponent with a 400 for a malformed escape (`%E0%A4%A`), which would otherwise be a 500. */
export function decodeParam(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new MeshError('invalid_request', 'The URL path contains a malformed percent-encoded sequence.', {
      headers: { 'x-should-retry': 'false' },
    });
  }
}

/** Methods answered on a path: HEAD is implied by GET (RFC 9110 §9.3.2). */
function allowList(methods: Iterable<string>): string[] {
  const list = [...new Set(methods)];
  if (list.includes('GET') && !list.includes('HEAD')) list.splice(list.indexOf('GET') + 1, 0, 'HEAD');
  return list;
}

export class RouteTable {
  readonly routes: readonly Route[];
  /** Fast path for the parameterless routes: path -> method -> route, and the path's Allow list. */
  readonly #static = new Map<string, { byMethod: Map<string, Route>; allowed: string[] }>();
  readonly #dynamic: Route[] = [];

  constructor(defs: readonly RouteDef[]) {
    const routes: Route[] = [];
    for (const def of defs) {
      const { pattern, keys } = compilePath(def.path);
      const route: Route = {
        method: def.method.toUpperCase(), path: def.path, pattern, keys, name: def.name, handler: def.handler,
        auth: def.auth ?? 'proxy', whileDraining: def.whileDraining ?? false, errorShape: def.errorShape ?? 'openai',
      };
      routes.push(route);
      if (keys.length > 0) {
        this.#dynamic.push(route);
        continue;
      }
      let entry = this.#static.get(def.path);
      if (entry === undefined) this.#static.set(def.path, (entry = { byMethod: new Map(), allowed: [] }));
      // Rows are scanned in order: the first row for a method wins, as it would in a linear scan.
      if (!entry.byMethod.has(route.method)) entry.byMethod.set(route.method, route);
      entry.allowed = allowList(entry.byMethod.keys());
    }
    this.routes = routes;
  }

  /**
   * `{ route, handler, params }` for a hit; `{ allowed }` when the path exists under other methods (405);
   * null when no row matches the path (404). HEAD falls back to GET. Params are percent-decoded
   * (`openai.gpt%2F4o` -> `openai.gpt/4o`); a malformed escape throws a 400 MeshError.
   */
  match(method: string, path: string): RouteMatch | MethodMismatch | null {
    // A literal row beats a pattern row for the same path (documented; the table never needs otherwise).
    const entry = this.#static.get(path);
    if (entry !== undefined) {
      const route = entry.byMethod.get(method) ?? (method === 'HEAD' ? entry.byMethod.get('GET') : undefined);
      if (route !== undefined) return { route, handler: route.handler, params: NO_PARAMS };
    }
    let seen: string[] | undefined = entry === undefined ? undefined : [...entry.byMethod.keys()];
    let fallback: { route: Route; m: RegExpExecArray } | undefined;
    for (const route of this.#dynamic) {
      const m = route.pattern.exec(path);
      if (m === null) continue;
      if (route.method === method) return hit(route, m);
      if (method === 'HEAD' && route.method === 'GET') fallback ??= { route, m };
      (seen ??= []).push(route.method);
    }
    if (fallback !== undefined) return hit(fallback.route, fallback.m);
    return seen === undefined ? null : { allowed: allowList(seen) };
  }

  /** Methods a path answers (CORS preflight), or null for an unknown path. */
  allowed(path: string): readonly string[] | null {
    const entry = this.#static.get(path);
    const methods = this.#dynamic.filter((r) => r.pattern.test(path)).map((r) => r.method);
    if (methods.length === 0) return entry === undefined ? null : entry.allowed;
    return allowList(entry === undefined ? methods : [...entry.byMethod.keys(), ...methods]);
  }
}

function hit(route: Route, m: RegExpExecArray): RouteMatch {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.keys.length; i++) params[route.keys[i] as string] = decodeParam(m[i + 1] ?? '');
  return { route, handler: route.handler, params };
}

export function isMatch(result: RouteMatch | MethodMismatch | null): result is RouteMatch {
  return result !== null && 'route' in result;
}
