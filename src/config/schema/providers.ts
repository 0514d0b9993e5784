// The `providers:` section (DESIGN §3, §8). A provider whose secret is missing is kept but disabled with a
// warning, unless it says `enabled: true`; then the load fails naming the secret (never its value).

import type { ProviderConfig } from '../types.ts';
import { Section, bool, duration, httpUrl, int, isMapping, listOf, num, oneOf, str, stringMap } from './check.ts';
import { NATIVE_PROTOCOLS } from '../types.ts';
import { describeValue } from '../duration.ts';

export const PROVIDER_KEYS = [
  'connector',
  'enabled',
  'base_url',
  'api_key',
  'headers',
  'timeouts',
  'timeout',
  'max_sockets',
  'http_client',
  'native_protocols',
  'budget',
  'latency',
  'failure_rate',
  'chunk_interval',
  'dimensions',
  'models',
];

/** A model written inside `providers.<id>.models`, read later with the top-level models. */
export interface NestedModel {
  id: unknown;
  path: string;
  value: Record<string, unknown>;
  provider: string;
}

export interface ProvidersResult {
  providers: Map<string, ProviderConfig>;
  nestedModels: NestedModel[];
}

/**
 * Reads every provider. `missing` holds, per provider id, the secrets its subtree referenced that are not
 * set (the strings holding them are already null). Skipped providers add a line to `warnings`.
 */
export function readProviders(
  root: Section,
  missing: ReadonlyMap<string, readonly { path: string; name: string }[]>,
  warnings: string[],
): ProvidersResult {
  const section = root.section('providers', null);
  const providers = new Map<string, ProviderConfig>();
  const nestedModels: NestedModel[] = [];
  for (const id of Object.keys(section.data)) {
    if (id.trim() === '' || /\s/.test(id)) {
      section.problems.add(section.at(id), 'provider ids may not be empty or contain whitespace');
    }
    const provider = section.section(id, PROVIDER_KEYS);
    const config = readProvider(provider, id, missing.get(id) ?? [], warnings);
    providers.set(id, config);
    nestedModels.push(...readNestedModels(provider, id));
  }
  return { providers, nestedModels };
}

function readProvider(
  p: Section,
  id: string,
  missing: readonly { path: string; name: string }[],
  warnings: string[],
): ProviderConfig {
  const enabledAsWritten = p.read('enabled', true, bool);
  let enabled = enabledAsWritten;
  let skipped: string | null = null;
  if (missing.length > 0) {
    if (p.raw('enabled') === true) {
      for (const m of missing) {
        p.problems.add(m.path, `secret "${m.name}" is not set (the provider says enabled: true)`);
      }
    } else if (enabledAsWritten) {
      const names = [...new Set(missing.map((m) => `"${m.name}"`))];
      skipped = names.length === 1 ? `secret ${names[0]} is not set` : `secrets ${names.join(', ')} are not set`;
      enabled = false;
      warnings.push(`provider ${id} skipped: ${skipped}`);
    }
    for (const m of missing) p.problems.mute(m.path);
  }

  const timeouts = p.section('timeouts', ['connect', 'first_byte', 'idle', 'total']);
  // `timeout: 30s` is shorthand for `timeouts: {total: 30s}`; writing both is ambiguous.
  if (p.has('timeout') && timeouts.has('total')) {
    p.problems.add(p.at('timeout'), `conflicts with ${timeouts.at('total')}; write only one`);
  }
  const total = p.read('timeout', timeouts.read('total', 600_000, duration), duration);
  const budget = p.section('budget', ['daily_limit', 'monthly_limit']);

  return {
    id,
    connector: p.read('connector', id, str),
    enabled,
    skipped,
    base_url: p.read('base_url', null, httpUrl),
    api_key: p.read('api_key', null, str),
    headers: p.read('headers', {}, stringMap),
    timeouts: {
      connect: timeouts.read('connect', 10_000, duration),
      first_byte: timeouts.read('first_byte', 60_000, duration),
      idle: timeouts.read('idle', 60_000, duration),
      total,
    },
    max_sockets: p.read('max_sockets', 256, int(1)),
    http_client: p.read('http_client', 'modelmesh', oneOf(['modelmesh', 'node'] as const)),
    ...(p.has('native_protocols') ? { native_protocols: p.read('native_protocols', [], listOf(oneOf(NATIVE_PROTOCOLS))) } : {}),
    budget: {
      daily_limit: budget.read('daily_limit', null, num(0)),
      monthly_limit: budget.read('monthly_limit', null, num(0)),
    },
    simulated: {
      latency: p.read('latency', 0, duration),
      failure_rate: p.read('failure_rate', 0, num(0, 1)),
      chunk_interval: p.read('chunk_interval', 20, duration),
      dimensions: p.read('dimensions', 256, int(1)),
    },
  };
}

function readNestedModels(p: Section, provider: string): NestedModel[] {
  const list = p.raw('models');
  if (list === undefined) return [];
  const path = p.at('models');
  if (!Array.isArray(list)) {
    p.problems.add(path, `expected a list of models, got ${describeValue(list)}`);
    return [];
  }
  const out: NestedModel[] = [];
  list.forEach((value: unknown, i) => {
    const itemPath = `${path}[${i}]`;
    if (!isMapping(value)) {
      p.problems.add(itemPath, `expected a mapping with an id, got ${describeValue(value)}`);
      return;
    }
    out.push({ id: Object.hasOwn(value, 'id') ? value['id'] : undefined, path: itemPath, value, provider });
  });
  return out;
}
