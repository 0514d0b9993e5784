// The guarantee that no secret reaches logs, error messages, /mesh/status or --check output (DESIGN §3):
// every string that leaves the process goes through a redactor built from the secret values resolved at
// load, and structured output additionally blanks the values of credential-named keys.

export const REDACTED = '[REDACTED]';

/** Values shorter than this are not redacted: replacing `abc` everywhere would shred ordinary text. */
export const MIN_SECRET_LENGTH = 4;

/**
 * A function replacing every occurrence of every secret value with `[REDACTED]`. Each secret is also
 * matched in its JSON-escaped and URL-encoded spellings, the forms it takes inside a JSON log line or a URL.
 */
export function createRedactor(secretValues: readonly string[]): (text: string) => string {
  const variants = new Set<string>();
  for (const value of secretValues) {
    if (value.length < MIN_SECRET_LENGTH) continue;
    variants.add(value);
    variants.add(JSON.stringify(value).slice(1, -1));
    variants.add(encodeURIComponent(value));
  }
  if (variants.size === 0) return (text) => text;
  // Longest first: the regex alternation takes the first alternative that matches at a position, so a
  // secret that contains another secret is replaced whole.
  const sorted = [...variants].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

// Key names whose values are credentials whatever they contain. Compared lowercased without `-`/`_`, so
// `api_key`, `x-api-key`, `Authorization` and `clientSecret` all match. `tokens` (plural) is an exact
// match only: `max_tokens` and `prompt_tokens` are counts, not credentials.
const SENSITIVE_EXACT = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'tokens',
  'secretvalues',
]);
const SENSITIVE_SUFFIXES = ['apikey', 'token', 'password', 'passwd', 'secret'];

/** True for keys like `api_key`, `authorization`, `token(s)`, `password`, `secret`. */
export function isSensitiveKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[-_]/g, '');
  if (SENSITIVE_EXACT.has(normalised)) return true;
  return SENSITIVE_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
}

/**
 * A deep copy of `value` with every string run through `redactor` and every value under a credential-named
 * key replaced by `[REDACTED]` (null stays null, so "not set" stays visible). Maps and arrays are copied;
 * class instances other than Map (Date, Buffer…) are returned as they are.
 */
export function redactDeep<T>(value: T, redactor: (text: string) => string): T {
  return walk(value, redactor, false, new WeakSet()) as T;
}

function walk(value: unknown, redactor: (text: string) => string, force: boolean, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return force ? REDACTED : redactor(value);
  if (typeof value === 'number' || typeof value === 'bigint') return force ? REDACTED : value;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, redactor, force, seen));
    if (value instanceof Map) {
      const copy = new Map<unknown, unknown>();
      for (const [key, item] of value) {
        const sensitive = force || (typeof key === 'string' && isSensitiveKey(key));
        copy.set(typeof key === 'string' ? redactor(key) : key, walk(item, redactor, sensitive, seen));
      }
      return copy;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value;
    // fromEntries defines own properties, so a `__proto__` key stays data.
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        redactor(key),
        walk(item, redactor, force || isSensitiveKey(key), seen),
      ]),
    );
  } finally {
    seen.delete(value);
  }
}
