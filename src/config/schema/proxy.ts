// The `proxy:` section (DESIGN §2, §3): listener, routes, auth, CORS, limits, timeouts, metrics, admin.

import { OPENAI_ROUTES } from '../types.ts';
import type { OpenAiRoute, ProxyConfig } from '../types.ts';
import { Section, bool, didYouMean, duration, int, listOf, oneOf, size, str } from './check.ts';
import type { Parser } from './check.ts';
import { describeValue, durationMs } from '../duration.ts';

const PROXY_KEYS = [
  'host',
  'port',
  'endpoints',
  'auth',
  'cors',
  'limits',
  'timeouts',
  'drain_timeout',
  'metrics',
  'admin',
  'responses',
];

/** Routes may be written with or without `/v1` and the leading slash: `chat/completions`, `/v1/embeddings`. */
const route: Parser<OpenAiRoute> = (value, path, problems) => {
  if (typeof value === 'string') {
    const bare = value.trim().replace(/^\/+/, '').replace(/^v1\//, '').replace(/\/+$/, '');
    const full = `/v1/${bare}`;
    const known = OPENAI_ROUTES.find((r) => r === full);
    if (known !== undefined) return known;
    problems.add(path, `unknown endpoint ${describeValue(value)}${didYouMean(full, OPENAI_ROUTES)}`);
    return undefined;
  }
  problems.add(path, `expected an endpoint like /v1/chat/completions, got ${describeValue(value)}`);
  return undefined;
};

/** CORS max-age is seconds on the wire: a bare number is seconds, a duration is rounded to whole seconds. */
const seconds: Parser<number> = (value, path, problems) => {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.round(value);
  const ms = typeof value === 'string' ? durationMs(value) : undefined;
  if (ms !== undefined) return Math.round(ms / 1000);
  problems.add(path, `expected a number of seconds or a duration like 10m, got ${describeValue(value)}`);
  return undefined;
};

/**
 * A bearer token (proxy.auth, proxy.admin), never quoted in a problem (it would end up in the log). A header
 * arrives as bytes read as latin1, trimmed: a token past ASCII, with a control character or with spaces at its
 * ends could never be presented as written, and would only look configured.
 */
const token: Parser<string> = (value, path, problems) => {
  if (typeof value !== 'string' || value.trim() === '') return str(value, path, problems);
  if (/[^\x20-\x7e]/.test(value) || value !== value.trim()) {
    problems.add(path, 'a token may contain only printable ASCII characters, with no spaces at its ends (an HTTP header cannot carry any other token as written)');
    return undefined;
  }
  return value;
};

const metricsPath: Parser<string> = (value, path, problems) => {
  if (typeof value === 'string' && /^\/\S*$/.test(value)) return value;
  problems.add(path, `expected a path starting with /, got ${describeValue(value)}`);
  return undefined;
};

function readMetrics(proxy: Section): ProxyConfig['metrics'] {
  const value = proxy.raw('metrics');
  // `metrics: true` is shorthand for `metrics: {enabled: true}`.
  if (typeof value === 'boolean') return { enabled: value, path: '/metrics' };
  const metrics = proxy.section('metrics', ['enabled', 'path']);
  return { enabled: metrics.read('enabled', false, bool), path: metrics.read('path', '/metrics', metricsPath) };
}

export function readProxy(root: Section, warnings: string[] = []): ProxyConfig {
  const proxy = root.section('proxy', PROXY_KEYS);

  const endpoints = proxy.read('endpoints', [...OPENAI_ROUTES], listOf(route));
  const auth = proxy.section('auth', ['enabled', 'method', 'tokens']);
  const tokens = auth.read('tokens', [], listOf(token));
  // Listing tokens turns auth on (issue 11.7): `auth: {method: bearer, tokens: [...]}` must never leave the
  // proxy open. Only an explicit `enabled: false` keeps it off, and that is worth a warning.
  const authEnabled = auth.read('enabled', tokens.length > 0, bool);
  if (!authEnabled && tokens.length > 0) {
    warnings.push(`proxy.auth.enabled is false: the ${tokens.length} token(s) in proxy.auth.tokens are ignored and every client is accepted without a token`);
  }
  if (authEnabled && !auth.has('tokens')) {
    proxy.problems.add(auth.at('tokens'), 'required when proxy.auth.enabled is true');
  } else if (authEnabled && Array.isArray(auth.raw('tokens')) && (auth.raw('tokens') as unknown[]).length === 0) {
    proxy.problems.add(auth.at('tokens'), 'must list at least one token when proxy.auth.enabled is true');
  }
  const cors = proxy.section('cors', ['enabled', 'origins', 'max_age']);
  const limits = proxy.section('limits', ['max_body', 'max_upload']);
  const timeouts = proxy.section('timeouts', ['headers', 'request', 'keep_alive', 'deadline']);
  const admin = proxy.section('admin', ['tokens']);
  const responses = proxy.section('responses', ['store_size', 'store_ttl']);
  const headersTimeout = timeouts.read('headers', 30_000, duration);
  const requestTimeout = timeouts.read('request', 300_000, duration);
  // node:http refuses a server whose headersTimeout exceeds a non-zero requestTimeout.
  if (requestTimeout > 0 && headersTimeout > requestTimeout) {
    proxy.problems.add(timeouts.at('headers'), `must not be longer than proxy.timeouts.request (${requestTimeout}ms)`);
  }

  return {
    host: proxy.read('host', '127.0.0.1', str),
    port: proxy.read('port', 8080, int(0, 65535)),
    // Canonical order, duplicates removed: the route table does not care how the list was written.
    endpoints: OPENAI_ROUTES.filter((r) => endpoints.includes(r)),
    auth: { enabled: authEnabled, method: auth.read('method', 'bearer', oneOf(['bearer'] as const)), tokens },
    cors: {
      enabled: cors.read('enabled', false, bool),
      origins: cors.read('origins', ['*'], listOf(str)),
      max_age: cors.read('max_age', 600, seconds),
    },
    limits: {
      max_body: limits.read('max_body', 10 * 1024 * 1024, size),
      max_upload: limits.read('max_upload', 25 * 1024 * 1024, size),
    },
    timeouts: {
      headers: headersTimeout,
      request: requestTimeout,
      keep_alive: timeouts.read('keep_alive', 65_000, duration),
      deadline: timeouts.read('deadline', 120_000, duration),
    },
    drain_timeout: proxy.read('drain_timeout', 30_000, duration),
    metrics: readMetrics(proxy),
    admin: { tokens: admin.read('tokens', [], listOf(token)) },
    responses: { store_size: responses.read('store_size', 1000, int(1)), store_ttl: responses.read('store_ttl', 3_600_000, duration) },
  };
}
