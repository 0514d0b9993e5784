// `storage.url` for modelmesh.redis.v1: redis://[user:password@]host[:port][/db], rediss:// for TLS.
// The password never appears in an error message or a log line: errors name the redacted form.
import { isIP } from 'node:net';

export const REDACTED = '[REDACTED]';

export interface RedisUrl {
  tls: boolean;
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** ACL user name (Redis 6+); null for a password alone (`AUTH password`, the default user). */
  username: string | null;
  password: string | null;
  db: number;
}

export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
  readonly code = 'REDIS_URL_INVALID';
}

const DEFAULT_PORT = 6379;

/** Parses a redis:// or rediss:// URL; throws RedisUrlError naming the redacted URL and what is wrong. */
export function parseRedisUrl(text: string): RedisUrl {
  // Text without '://' is not quoted at all: it could be a password pasted in the wrong place.
  const shown = text.includes('://') ? ` "${redactRedisUrl(text)}"` : '';
  const fail = (why: string): never => {
    throw new RedisUrlError(`invalid Redis URL${shown}: ${why}`);
  };
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return fail('not a URL (expected redis://[user:password@]host[:port][/db])');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return fail('the scheme must be redis:// or rediss:// (TLS)');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return fail('no host');
  if (url.search !== '' || url.hash !== '') return fail('query parameters and fragments are not supported');
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail('the port must be 1..65535');
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d{1,9}$/.test(path)) return fail('the path must be a database number (/0, /1, ...)');
  const username = decode(url.username, fail);
  const password = decode(url.password, fail);
  // redis://secret@host would send "secret" as a user name and log it in clear: make the intent explicit.
  if (username !== '' && password === '') return fail('a user name without a password (for a password alone write redis://:PASSWORD@host)');
  return {
    tls: url.protocol === 'rediss:',
    host,
    port,
    username: username === '' ? null : username,
    password: password === '' ? null : password,
    db: path === '' ? 0 : Number(path),
  };
}

function decode(part: string, fail: (why: string) => never): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail('bad percent-encoding in the user name or password');
  }
}

/**
 * The URL text with its password replaced by [REDACTED], for logs and errors. Works on text that does not
 * parse too: the user info is what sits between '//' and the last '@'; its part after the first ':' is the
 * password, and user info without a ':' is redacted whole (it may be a password written as a user name).
 */
export function redactRedisUrl(text: string): string {
  const start = text.indexOf('//');
  const at = text.lastIndexOf('@');
  if (start === -1 || at < start) return text;
  const info = text.slice(start + 2, at);
  const colon = info.indexOf(':');
  return `${text.slice(0, start + 2)}${colon === -1 ? REDACTED : `${info.slice(0, colon)}:${REDACTED}`}${text.slice(at)}`;
}

/** The redacted URL of a parsed target: rediss://user:[REDACTED]@host:port/db. */
export function describeRedisUrl(url: RedisUrl): string {
  const auth = url.password === null ? '' : `${url.username === null ? '' : encodeURIComponent(url.username)}:${REDACTED}@`;
  const host = isIP(url.host) === 6 ? `[${url.host}]` : url.host;
  return `${url.tls ? 'rediss' : 'redis'}://${auth}${host}:${url.port}/${url.db}`;
}
