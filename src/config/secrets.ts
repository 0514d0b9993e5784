// Secret stores and `${secrets:NAME}` substitution (DESIGN §3). Secrets are resolved once at load; the
// resolved values are collected so the redactor can blank them everywhere. Errors and warnings name
// secrets, never their values.

import { copyWritten } from './yaml/written-as.ts';
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';

export const SECRET_STORES = ['modelmesh.env.v1', 'modelmesh.dotenv.v1'] as const;

export interface SecretStore {
  /** The secret's value; undefined when it is not set (an empty value counts as not set). */
  get(name: string): string | undefined;
}

/** `modelmesh.env.v1`: the process environment (injected, so tests never touch `process.env`). */
export function envStore(env: Readonly<Record<string, string | undefined>>): SecretStore {
  return {
    get: (name) => {
      const value = Object.hasOwn(env, name) ? env[name] : undefined;
      return value === undefined || value === '' ? undefined : value;
    },
  };
}

/** `modelmesh.dotenv.v1`: a dotenv file read once. Throws ConfigError naming the file. */
export function dotenvStore(file: string): SecretStore {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(`secrets.path: dotenv file ${file} ${problem}`, { path: 'secrets.path' });
  }
  let values: Map<string, string>;
  try {
    values = parseDotenv(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`secrets.path: dotenv file ${file}: ${detail}`, { path: 'secrets.path' });
  }
  return { get: (name) => (values.get(name) || undefined) };
}

const KEY = /[A-Za-z_][A-Za-z0-9_.-]*/y;
// Escapes of double-quoted dotenv values; any other backslash stays as written.
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/**
 * Parses dotenv text: `KEY=VALUE`, `export KEY=VALUE`, `#` comments, blank lines, single quotes (literal,
 * may span lines), double quotes (`\n \r \t \" \\` escapes, may span lines), unquoted values with a
 * trailing ` # comment` removed. A later duplicate wins. A malformed line throws ConfigError with the line
 * number only: the line may hold a secret, so it is never quoted.
 */
export function parseDotenv(text: string): Map<string, string> {
  const values = new Map<string, string>();
  let pos = 0;
  let line = 1;
  const fail = (problem: string): ConfigError =>
    new ConfigError(`line ${line}: ${problem}`, { location: { line, column: 1 } });
  const skipBlanks = (): void => {
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
  };
  const skipLine = (): void => {
    while (pos < text.length && text[pos] !== '\n') pos++;
    if (pos < text.length) pos++;
    line++;
  };
  // After a value: only blanks and an optional comment may remain on the line.
  const endOfLine = (): void => {
    skipBlanks();
    if (pos < text.length && text[pos] !== '\n' && text[pos] !== '\r' && text[pos] !== '#') {
      throw fail('unexpected text after the closing quote');
    }
    skipLine();
  };
  while (pos < text.length) {
    skipBlanks();
    const c = text[pos];
    if (c === '\n' || c === '\r' || c === '#' || c === undefined) {
      skipLine();
      continue;
    }
    if (text.startsWith('export ', pos) || text.startsWith('export\t', pos)) {
      pos += 7;
      skipBlanks();
    }
    KEY.lastIndex = pos;
    const key = KEY.exec(text)?.[0];
    if (key === undefined) throw fail('expected KEY=VALUE');
    pos += key.length;
    skipBlanks();
    if (text[pos] !== '=') throw fail('expected KEY=VALUE');
    pos++;
    const valueStart = pos;
    skipBlanks();
    const quote = text[pos];
    if (quote === "'" || quote === '"') {
      const startLine = line;
      let value = '';
      pos++;
      for (;;) {
        const ch = text[pos];
        if (ch === undefined) {
          line = startLine;
          throw fail(`unterminated ${quote === "'" ? 'single' : 'double'}-quoted value`);
        }
        pos++;
        if (ch === quote) break;
        if (ch === '\n') line++;
        if (ch === '\\' && quote === '"') {
          const next = text[pos] ?? '';
          pos++;
          if (next === '\n') line++;
          value += ESCAPES[next] ?? `\\${next}`;
          continue;
        }
        value += ch;
      }
      values.set(key, value);
      endOfLine();
    } else {
      let end = text.indexOf('\n', pos);
      if (end === -1) end = text.length;
      // From just after `=`, so `KEY= # note` is empty while `KEY=a#b` keeps its `#`.
      let raw = text.slice(valueStart, end);
      const comment = raw.search(/\s#/);
      if (comment !== -1) raw = raw.slice(0, comment);
      values.set(key, raw.trim());
      pos = end;
      skipLine();
    }
  }
  return values;
}

const REFERENCE = /\$\{secrets:([^}]*)\}/g;
/** Names as people write them: `OPENAI_API_KEY`, `proxy-token`, `openai.key` (issue 11.7). */
const SECRET_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * The names a reference is looked up under, in order: as written, then in environment-variable form
 * (upper case, `-` and `.` as `_`): `${secrets:proxy-token}` finds `proxy-token` (a dotenv key) or
 * `PROXY_TOKEN` (an environment variable, which cannot hold `-` in most shells).
 */
export function secretNameCandidates(name: string): string[] {
  const envName = name.replace(/[-.]/g, '_').toUpperCase();
  return envName === name ? [name] : [name, envName];
}

function lookup(store: SecretStore, name: string): string | undefined {
  for (const candidate of secretNameCandidates(name)) {
    const value = store.get(candidate);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** What resolving one config subtree found. */
export interface SecretResolution {
  /** Every resolved value (for the redactor). */
  values: Set<string>;
  /** References whose secret is not set, with the key path where they appear. */
  missing: { path: string; name: string }[];
  /** Malformed references (`${secrets:bad name}`), with their key path. */
  invalid: { path: string; reference: string }[];
}

export function newResolution(): SecretResolution {
  return { values: new Set(), missing: [], invalid: [] };
}

/**
 * `value` with every `${secrets:NAME}` inside every string replaced through `store` (several per string,
 * `Bearer ${secrets:KEY}`). A string with a reference whose secret is not set becomes null (it is unusable,
 * and null reads as "not given" in the schema); a malformed reference is left as written. The caller
 * decides from `out` whether that skips a provider or fails the load. Key paths join with `.` and list
 * items are `[i]`, as in schema errors.
 */
export function resolveSecrets(value: unknown, path: string, store: SecretStore, out: SecretResolution): unknown {
  return resolveIn(value, path, [], store, out);
}

// The walk keeps the key path as a stack and writes it out only for a reference it reports: building it for
// every node (and copying each object through entries arrays) was 17 ms of a cold start with 1,000 clients.
function resolveIn(value: unknown, base: string, keys: (string | number)[], store: SecretStore, out: SecretResolution): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${secrets:')) return value;
    let unresolved = false;
    const resolved = value.replace(REFERENCE, (reference: string, name: string) => {
      if (!SECRET_NAME.test(name)) {
        out.invalid.push({ path: pathOf(base, keys), reference });
        return reference;
      }
      const secret = lookup(store, name);
      if (secret === undefined) {
        out.missing.push({ path: pathOf(base, keys), name });
        unresolved = true;
        return reference;
      }
      out.values.add(secret);
      return secret;
    });
    return unresolved ? null : resolved;
  }
  if (Array.isArray(value)) {
    const items: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      keys.push(i);
      items[i] = resolveIn(value[i], base, keys, store, out);
      keys.pop();
    }
    return items;
  }
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      keys.push(key);
      const item = resolveIn((value as Record<string, unknown>)[key], base, keys, store, out);
      keys.pop();
      // Defined, not assigned: a `__proto__` key stays data and never becomes a prototype.
      if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
      else copy[key] = item;
    }
    copyWritten(value, copy); // numbers the YAML had written otherwise (`000123`) keep that text
    return copy;
  }
  return value;
}

/** `providers.x.headers.Authorization`, `clients.app1.pools[0]`: as schema errors write key paths. */
function pathOf(base: string, keys: readonly (string | number)[]): string {
  let path = base;
  for (const key of keys) path = typeof key === 'number' ? `${path}[${key}]` : path === '' ? key : `${path}.${key}`;
  return path;
}
