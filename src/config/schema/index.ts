// Validates and normalises a parsed mesh.yaml into MeshConfig (DESIGN §3). Every problem of the document is
// collected in one pass and thrown as one ConfigError, one `<key.path>: <problem>` per line,
// so an operator fixes the file once instead of once per error.

import { resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import type { MeshConfig, SecretsConfig } from '../types.ts';
import { Problems, Section, isMapping, listOf, oneOf, str } from './check.ts';
import type { Parser } from './check.ts';
import { describeValue } from '../duration.ts';
import { createRedactor, isSensitiveKey } from '../redact.ts';
import { parseRedisUrl } from '../../storage/redis/url.ts';
import { readClients } from './clients.ts';
import { readModels } from './models.ts';
import { readObservability, readStorage } from './observability.ts';
import { readPools } from './pools.ts';
import { readProviders } from './providers.ts';
import { readProxy } from './proxy.ts';
import { SECRET_STORES, dotenvStore, envStore, newResolution, resolveSecrets, secretNameCandidates } from '../secrets.ts';
import type { SecretResolution, SecretStore } from '../secrets.ts';

export const TOP_LEVEL_KEYS = [
  'secrets',
  'proxy',
  'providers',
  'models',
  'pools',
  'clients',
  'storage',
  'observability',
  'capabilities',
];

export interface BuildOptions {
  /** Absolute path of the config file, or null when built from an object. */
  source: string | null;
  /** Environment for `modelmesh.env.v1` (injected so tests and reloads never depend on process.env). */
  env: Readonly<Record<string, string | undefined>>;
  /** Folder that relative paths (dotenv, storage, log files) are resolved against. */
  baseDir: string;
}

/** Custom capability nodes are full paths of at least two segments (`generation.text-generation.legal`). */
const capabilityPath: Parser<string> = (value, path, problems) => {
  if (typeof value === 'string' && /^[^.\s]+(?:\.[^.\s]+)+$/.test(value)) return value;
  const example = 'generation.text-generation.legal-drafting';
  problems.add(path, `expected a full dotted capability path like ${example}, got ${describeValue(value)}`);
  return undefined;
};

export function buildConfig(raw: unknown, options: BuildOptions): MeshConfig {
  if (raw !== null && raw !== undefined && !isMapping(raw)) {
    throw new ConfigError(
      `the configuration must be a mapping of sections (${TOP_LEVEL_KEYS.join(', ')}), got ${describeValue(raw)}`,
    );
  }
  const document: Readonly<Record<string, unknown>> = raw ?? {};
  const problems = new Problems();

  const secretsValue = Object.hasOwn(document, 'secrets') ? document['secrets'] : undefined;
  const secretsSection = new Section(problems, 'secrets', secretsValue, ['store', 'path']);
  const { secrets, store } = openStore(secretsSection, options);

  // Substitute secrets before validating, so every reader sees final values. Providers are resolved one by
  // one: a missing secret there skips that provider instead of failing the load.
  const general = newResolution();
  const perProvider = new Map<string, SecretResolution>();
  const resolved: [string, unknown][] = [];
  for (const [key, value] of Object.entries(document)) {
    if (key === 'secrets') {
      resolved.push([key, value]);
    } else if (key === 'providers' && isMapping(value)) {
      const providers: [string, unknown][] = [];
      for (const [id, provider] of Object.entries(value)) {
        const out = newResolution();
        perProvider.set(id, out);
        providers.push([id, resolveSecrets(provider, `providers.${id}`, store ?? NO_SECRETS, out)]);
      }
      resolved.push([key, Object.fromEntries(providers)]);
    } else {
      resolved.push([key, resolveSecrets(value, key, store ?? NO_SECRETS, general)]);
    }
  }
  // fromEntries keeps a `__proto__` key as data; the root Section reports it as unknown.
  const root = new Section(problems, '', Object.fromEntries(resolved), TOP_LEVEL_KEYS);

  const resolutions = [general, ...perProvider.values()];
  for (const { path, reference } of resolutions.flatMap((r) => r.invalid)) {
    problems.add(path, `malformed secret reference "${reference}" (names are letters, digits, _, - and ., starting with a letter or _)`);
    problems.mute(path);
  }
  for (const { path, name } of general.missing) {
    if (store !== null) problems.add(path, `secret ${secretNameCandidates(name).map((n) => `"${n}"`).join(' or ')} is not set`);
    problems.mute(path);
  }
  if (store === null) for (const r of perProvider.values()) for (const { path } of r.missing) problems.mute(path);
  const missingByProvider = new Map([...perProvider].map(([id, r]) => [id, store === null ? [] : r.missing] as const));

  const warnings: string[] = [];
  const proxy = readProxy(root, warnings);
  const { providers, nestedModels } = readProviders(root, missingByProvider, warnings);
  const models = readModels(root, providers, nestedModels);
  const pools = readPools(root, [...models.keys()], [...providers.keys()]);
  const clients = readClients(root, document['clients'], pools, models, warnings, { auth: proxy.auth.tokens, admin: proxy.admin.tokens });
  const config: MeshConfig = {
    source: options.source,
    secrets,
    proxy,
    capabilities: root.read('capabilities', [], listOf(capabilityPath)),
    providers,
    models,
    pools,
    clients: clients.clients,
    storage: readStorage(root, options.baseDir),
    observability: readObservability(root, options.baseDir),
    secretValues: [],
    warnings,
  };
  // A client key lives only here: the normalised config keeps its digest.
  config.secretValues = [...new Set([...collectSecretValues(config, resolutions), ...clients.keys, ...redisPassword(config.storage.redis?.url)])];

  if (problems.list.length > 0) {
    // A wrong-type message quotes the value, and the value may have come from a secret.
    const redact = createRedactor(config.secretValues);
    const first = problems.list[0];
    throw new ConfigError(redact(problems.list.map((p) => `${p.path}: ${p.message}`).join('\n')), {
      path: first?.path ?? '',
    });
  }
  return config;
}

/** A password written in storage.url (not through a secret) is redacted like one (issue 13). */
function redisPassword(url: string | undefined): string[] {
  if (url === undefined || url === '') return [];
  try {
    const password = parseRedisUrl(url).password;
    return password === null || password === '' ? [] : [password, encodeURIComponent(password)];
  } catch {
    return [];
  }
}

// Stands in for a store that could not be opened: references stay unresolved, and are not reported, since
// the store problem already explains them.
const NO_SECRETS: SecretStore = { get: () => undefined };

/** The configured secret store, or null when it cannot be opened (that problem is already recorded). */
function openStore(section: Section, options: BuildOptions): { secrets: SecretsConfig; store: SecretStore | null } {
  const id = section.read('store', 'modelmesh.env.v1', oneOf(SECRET_STORES));
  const written = section.read('path', null, str);
  if (id === 'modelmesh.env.v1') {
    if (written !== null) section.problems.add(section.at('path'), 'only used with store: modelmesh.dotenv.v1');
    return { secrets: { store: id, path: null }, store: envStore(options.env) };
  }
  const file = resolve(options.baseDir, written ?? '.env');
  const secrets: SecretsConfig = { store: id, path: file };
  try {
    return { secrets, store: dotenvStore(file) };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    section.problems.add(section.at('path'), err.message.replace(/^secrets\.path: /, ''));
    return { secrets, store: null };
  }
}

/**
 * The redaction list: every resolved secret, plus credentials written literally in the file (provider
 * api_key and credential-named headers, proxy and admin tokens), which must not leak either.
 */
function collectSecretValues(config: MeshConfig, resolutions: readonly SecretResolution[]): string[] {
  const values = new Set<string>();
  for (const r of resolutions) for (const value of r.values) values.add(value);
  for (const provider of config.providers.values()) {
    if (provider.api_key !== null) values.add(provider.api_key);
    addHeaderCredentials(provider.headers, values);
  }
  const { routing, logging, statistics, tracing } = config.observability;
  for (const sink of [routing, logging, statistics]) addHeaderCredentials(sink.headers, values);
  addHeaderCredentials(tracing.headers, values);
  for (const token of [...config.proxy.auth.tokens, ...config.proxy.admin.tokens]) values.add(token);
  return [...values];
}

function addHeaderCredentials(headers: Readonly<Record<string, string>>, values: Set<string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!isSensitiveKey(name)) continue;
    values.add(value);
    // `Bearer sk-…`: the bare credential may be printed on its own elsewhere.
    const credential = /^(?:bearer|basic|token)\s+(\S+)$/i.exec(value)?.[1];
    if (credential !== undefined) values.add(credential);
  }
}
