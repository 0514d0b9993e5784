// The `clients:` section (issue 12, DESIGN §11): one entry per application, with its own key, allow-list,
// rate limits and budget. A key is given as `${secrets:NAME}` (or literally) in `key`, or as its digest in
// `key_sha256`; either way the normalised config keeps only the digest, and the key itself only reaches the
// redaction list.

import { createHash } from 'node:crypto';
import type { ClientConfig, ModelConfig, PoolConfig } from '../types.ts';
import { Section, int, isMapping, listOf, num, str, stringMap, unknownReference } from './check.ts';
import type { Parser } from './check.ts';
import { describeValue } from '../duration.ts';

const CLIENT_KEYS = ['key', 'key_sha256', 'pools', 'rpm', 'tpm', 'max_concurrent', 'budget', 'metadata'];

/** Client names end up in URLs (`/mesh/clients/{name}`), log fields and metric labels. */
export const CLIENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const CLIENT_NAME_RULE = 'client names are letters, digits, ".", "_" and "-", starting with a letter or digit';

/** Shorter keys are guessable, and a key under the redactor's minimum length would not be blanked in logs. */
export const MIN_KEY_LENGTH = 16;

// The pools that exist without any config. Mirrors PREDEFINED_POOLS of src/mesh/capabilities.ts (the config
// layer does not import the mesh); test/config/schema-clients.test.ts keeps the two lists equal.
export const PREDEFINED_POOL_NAMES = [
  'text-generation',
  'structured-generation',
  'image-generation',
  'embeddings',
  'speech-to-text',
  'text-to-speech',
  'vision-understanding',
];

/** The digest `key_sha256` holds: SHA-256 of the key's UTF-8 bytes, lowercase hex. */
export function keyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A key is never quoted in a problem: a misplaced one would end up in the log. */
const clientKey: Parser<string> = (value, path, problems) => {
  if (typeof value !== 'string' || value === '') {
    problems.add(path, `expected a non-empty string, got ${typeof value === 'string' ? 'an empty string' : describeValue(value)}`);
  } else if (/\s/.test(value)) {
    problems.add(path, 'a client key may not contain whitespace');
  } else if (/[^\x21-\x7e]/.test(value)) {
    // Header values arrive as bytes, read as latin1 and hashed as UTF-8 (src/clients/registry.ts): a key
    // with a character past ASCII never hashes to its configured digest as clients send it.
    problems.add(path, 'a client key may contain only printable ASCII characters (an HTTP header cannot carry any other key as written)');
  } else if (value.length < MIN_KEY_LENGTH) {
    problems.add(path, `too short: a client key needs at least ${MIN_KEY_LENGTH} characters (node dist/server.js --new-key NAME makes one)`);
  } else {
    return value;
  }
  return undefined;
};

const digest: Parser<string> = (value, path, problems) => {
  if (typeof value === 'string' && /^[0-9a-fA-F]{64}$/.test(value)) return value.toLowerCase();
  const got = typeof value === 'string' ? `a string of ${value.length} characters` : describeValue(value);
  problems.add(path, `expected 64 hex digits (the SHA-256 of the key, as --new-key prints it), got ${got}`);
  return undefined;
};

/** The bearer tokens of `proxy:`, which no client key may equal. */
export interface ProxyTokens {
  auth: readonly string[];
  admin: readonly string[];
}

// Why a client key must differ from each list: one bearer would be two callers (src/clients/authenticate.ts
// takes a client key before an auth token; the admin routes accept any admin token).
const TOKEN_LISTS = [
  { key: 'auth', path: 'proxy.auth.tokens', why: 'a request with it would be both this client and an anonymous caller' },
  { key: 'admin', path: 'proxy.admin.tokens', why: "the client's key would also open the admin API" },
] as const;

export interface ClientsRead {
  clients: Map<string, ClientConfig>;
  /** Keys given in `key` (resolved), for the redaction list; they appear nowhere else. */
  keys: string[];
}

/**
 * Reads `clients:`. `written` is the section before secret substitution, to tell a `${secrets:…}` key from
 * one written in the file (a warning: anyone who can read the file can use it).
 */
export function readClients(
  root: Section,
  written: unknown,
  pools: ReadonlyMap<string, PoolConfig>,
  models: ReadonlyMap<string, ModelConfig>,
  warnings: string[],
  tokens: ProxyTokens = { auth: [], admin: [] },
): ClientsRead {
  const section = root.section('clients', null);
  // Compared as digests: a key_sha256 client is checked too, and no token is held here in a second form.
  const reserved = TOKEN_LISTS.map((list) => ({ ...list, digests: new Set(tokens[list.key].map(keyDigest)) }));
  const known = knownNames(pools, models);
  const clients = new Map<string, ClientConfig>();
  const keys: string[] = [];
  const owners = new Map<string, string>(); // digest -> client name
  for (const name of Object.keys(section.data)) {
    const client = section.section(name, CLIENT_KEYS);
    if (!CLIENT_NAME.test(name)) section.problems.add(client.path, `${CLIENT_NAME_RULE}, got ${describeValue(name)}`);
    const { key, sha, keyPath } = readKey(client);
    if (key !== undefined) {
      keys.push(key);
      const raw = isMapping(written) && isMapping(written[name]) ? written[name]['key'] : undefined;
      if (typeof raw === 'string' && !raw.includes('${secrets:')) {
        warnings.push(`${client.at('key')}: the key is written in the config file; prefer \${secrets:NAME} or key_sha256`);
      }
    }
    if (sha !== undefined) {
      const owner = owners.get(sha);
      if (owner !== undefined) section.problems.add(keyPath, `the same key as clients.${owner} (every client needs its own key)`);
      else owners.set(sha, name);
      for (const list of reserved) {
        if (list.digests.has(sha)) section.problems.add(keyPath, `the same key as a token in ${list.path}: ${list.why}; give the client a key of its own`);
      }
    }
    const budget = client.section('budget', ['daily', 'monthly']);
    clients.set(name, {
      name,
      key_sha256: sha ?? '',
      pools: readAllowList(client, known),
      rpm: client.read('rpm', null, int(1)),
      tpm: client.read('tpm', null, int(1)),
      max_concurrent: client.read('max_concurrent', null, int(1)),
      budget: { daily: budget.read('daily', null, num(0)), monthly: budget.read('monthly', null, num(0)) },
      metadata: client.read('metadata', {}, stringMap),
    });
  }
  return { clients, keys };
}

/** Exactly one of `key` and `key_sha256`; the digest either way. */
function readKey(client: Section): { key?: string; sha?: string; keyPath: string } {
  const keyPath = client.at('key');
  const shaPath = client.at('key_sha256');
  if (client.has('key') && client.has('key_sha256')) {
    client.problems.add(shaPath, 'give either key or key_sha256, not both');
    return { keyPath };
  }
  if (client.has('key_sha256')) {
    const sha = client.read('key_sha256', undefined, digest);
    return sha === undefined ? { keyPath: shaPath } : { sha, keyPath: shaPath };
  }
  // A `${secrets:…}` whose secret is not set reads as absent; its path is muted, the secret problem explains it.
  if (!client.has('key')) {
    client.problems.add(keyPath, 'required (key or key_sha256)');
    return { keyPath };
  }
  const key = clientKey(client.raw('key'), keyPath, client.problems);
  return key === undefined ? { keyPath } : { key, sha: keyDigest(key), keyPath };
}

/** The names a client may send: pool names (configured and predefined), aliases and model ids. */
function knownNames(pools: ReadonlyMap<string, PoolConfig>, models: ReadonlyMap<string, ModelConfig>): string[] {
  const names = new Set<string>([...pools.keys(), ...PREDEFINED_POOL_NAMES]);
  for (const pool of pools.values()) for (const alias of pool.aliases) names.add(alias);
  for (const id of models.keys()) names.add(id);
  return [...names];
}

/** `pools:` of a client: every entry must name something (like pool model references, an error otherwise). */
function readAllowList(client: Section, known: readonly string[]): string[] | null {
  const list = client.read('pools', undefined, listOf(str));
  if (list === undefined) return null;
  if (list.length === 0 && (client.raw('pools') as unknown[]).length === 0) {
    client.problems.add(client.at('pools'), 'must name at least one pool, alias or model (leave pools out to allow all)');
    return null;
  }
  (client.raw('pools') as unknown[]).forEach((item, i) => {
    if (typeof item === 'string' && item.trim() !== '' && !known.includes(item)) {
      client.problems.add(`${client.at('pools')}[${i}]`, unknownReference('pool, alias or model', item, known));
    }
  });
  return list;
}
