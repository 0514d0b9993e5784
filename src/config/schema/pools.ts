// The `pools:` section (DESIGN §3, §6): membership, selection, deactivation, recovery, retry, rate limits.
// Strategy names and capability nodes are kept as written; the mesh validates them against its registries.

import type { DeactivationConfig, PoolConfig, RecoveryConfig, RetryConfig } from '../types.ts';
import { Problems, Section, bool, duration, int, listOf, num, oneOf, str, unknownReference } from './check.ts';
import type { Parser } from './check.ts';
import { describeValue } from '../duration.ts';
import { ConfigError } from '../errors.ts';

const POOL_KEYS = [
  'capability',
  'models',
  'aliases',
  'providers',
  'excluded_providers',
  'model_priority',
  'provider_priority',
  'strategy',
  'fallback_strategy',
  'balance_mode',
  'deactivation',
  'recovery',
  'retry',
  'rate_limit',
  'provider_deactivation',
  'provider_recovery',
];
const DEACTIVATION_KEYS = [
  'retry_limit',
  'error_rate_threshold',
  'error_rate_window',
  'error_codes',
  'request_limit',
  'token_limit',
  'budget_limit',
  'quota_window',
  'maintenance_window',
];
const RECOVERY_KEYS = ['cooldown', 'probe_on_start', 'probe_interval', 'on_quota_reset', 'quota_reset_schedule'];
const RETRY_KEYS = [
  'max_attempts',
  'backoff',
  'initial_delay',
  'max_delay',
  'retryable_codes',
  'non_retryable_codes',
  'scope',
  'honor_retry_after',
];
const PROVIDER_EVENTS = ['on_auth_failure', 'on_api_outage'] as const;
const PROVIDER_RECOVERY = ['on_probe_success', 'on_manual'] as const;

export const DEFAULT_STRATEGY = 'modelmesh.stick-until-failure.v1';

const httpStatus = int(100, 599);
const statusList = listOf(httpStatus);

// `HH:MM-HH:MM` in UTC; the end may be earlier than the start (a window across midnight).
const TIME = '(?:[01]\\d|2[0-3]):[0-5]\\d';
const WINDOW = new RegExp(`^${TIME}-${TIME}$`);
const maintenanceWindow: Parser<string> = (value, path, problems) => {
  if (typeof value === 'string' && WINDOW.test(value.trim())) return value.trim();
  problems.add(path, `expected a UTC time window like 02:00-04:00, got ${describeValue(value)}`);
  return undefined;
};

/** `provider_deactivation: on_auth_failure` is shorthand for a one-item list. */
const providerEvents: Parser<('on_auth_failure' | 'on_api_outage')[]> = (value, path, problems) => {
  if (typeof value === 'string') {
    const one = oneOf(PROVIDER_EVENTS)(value, path, problems);
    return one === undefined ? undefined : [one];
  }
  return listOf(oneOf(PROVIDER_EVENTS))(value, path, problems);
};

/** Names that must exist among `known` (models or providers); each unknown one is reported at `key[i]`. */
function references<D>(s: Section, key: string, kind: string, known: readonly string[], fallback: D): string[] | D {
  const list = s.read(key, undefined, listOf(str));
  if (list === undefined) return fallback;
  const raw = s.raw(key) as unknown[];
  raw.forEach((item, i) => {
    if (typeof item === 'string' && item.trim() !== '' && !known.includes(item)) {
      s.problems.add(`${s.at(key)}[${i}]`, unknownReference(kind, item, known));
    }
  });
  return list;
}

export function readPools(
  root: Section,
  modelIds: readonly string[],
  providerIds: readonly string[],
): Map<string, PoolConfig> {
  const section = root.section('pools', null);
  const pools = new Map<string, PoolConfig>();
  for (const name of Object.keys(section.data)) {
    const pool = section.section(name, POOL_KEYS);
    if (name.trim() === '' || /\s/.test(name)) {
      section.problems.add(pool.path, 'pool names may not be empty or contain whitespace');
    }
    const deactivation = readDeactivation(pool.section('deactivation', DEACTIVATION_KEYS));
    const rateLimit = pool.section('rate_limit', ['threshold', 'min_delta', 'max_rpm']);
    pools.set(name, {
      name,
      capability: pool.read('capability', null, str),
      models: references(pool, 'models', 'model', modelIds, []),
      aliases: pool.read('aliases', [], listOf(str)),
      providers: references(pool, 'providers', 'provider', providerIds, null),
      excluded_providers: references(pool, 'excluded_providers', 'provider', providerIds, []),
      model_priority: references(pool, 'model_priority', 'model', modelIds, []),
      provider_priority: references(pool, 'provider_priority', 'provider', providerIds, []),
      strategy: pool.read('strategy', DEFAULT_STRATEGY, str),
      fallback_strategy: pool.read('fallback_strategy', null, str),
      balance_mode: pool.read('balance_mode', 'absolute', oneOf(['absolute', 'relative'] as const)),
      deactivation,
      recovery: readRecovery(pool.section('recovery', RECOVERY_KEYS), deactivation),
      retry: readRetry(pool.section('retry', RETRY_KEYS)),
      rate_limit: {
        threshold: rateLimit.read('threshold', 0.1, num(0, 1)),
        min_delta: rateLimit.read('min_delta', 0, num(0)),
        max_rpm: rateLimit.read('max_rpm', null, int(1)),
      },
      provider_deactivation: pool.read('provider_deactivation', ['on_auth_failure'], providerEvents),
      provider_recovery: pool.read('provider_recovery', 'on_probe_success', oneOf(PROVIDER_RECOVERY)),
    });
  }
  checkAliases(section, pools);
  return pools;
}

/**
 * A pool the file does not mention (predefined pools, direct model requests): every policy at its default,
 * read by the same code as a written pool so the two can never disagree.
 */
export function defaultPoolConfig(name: string, capability: string | null): PoolConfig {
  const problems = new Problems();
  const pool = readPools(new Section(problems, '', { pools: { [name]: { capability } } }, null), [], []).get(name);
  const first = problems.list[0];
  if (first !== undefined) throw new ConfigError(`${first.path}: ${first.message}`, { path: first.path });
  if (pool === undefined) throw new Error(`default pool ${name} could not be built`);
  return pool;
}

/** A name a client sends must resolve to one pool: an alias may not repeat a pool name or another alias. */
function checkAliases(section: Section, pools: ReadonlyMap<string, PoolConfig>): void {
  const owners = new Map<string, string>();
  for (const pool of pools.values()) {
    pool.aliases.forEach((alias, i) => {
      const path = `${section.at(pool.name)}.aliases[${i}]`;
      if (/\s/.test(alias)) {
        section.problems.add(path, `aliases may not contain whitespace, got ${describeValue(alias)}`);
      } else if (pools.has(alias) && alias !== pool.name) {
        section.problems.add(path, `alias "${alias}" is already the name of pool ${alias}`);
      } else if (owners.has(alias) && owners.get(alias) !== pool.name) {
        section.problems.add(path, `alias "${alias}" is already an alias of pool ${owners.get(alias) ?? ''}`);
      } else {
        owners.set(alias, pool.name);
      }
    });
  }
}

function readDeactivation(d: Section): DeactivationConfig {
  return {
    retry_limit: d.read('retry_limit', 3, int(0)),
    error_rate_threshold: d.read('error_rate_threshold', null, num(0, 1)),
    error_rate_window: d.read('error_rate_window', 20, int(1)),
    error_codes: d.read('error_codes', [], statusList),
    request_limit: d.read('request_limit', null, int(1)),
    token_limit: d.read('token_limit', null, int(1)),
    budget_limit: d.read('budget_limit', null, num(0)),
    quota_window: d.read('quota_window', null, oneOf(['daily', 'monthly'] as const)),
    maintenance_window: d.read('maintenance_window', null, maintenanceWindow),
  };
}

function readRecovery(r: Section, deactivation: DeactivationConfig): RecoveryConfig {
  // Quotas reset when their window does: a monthly quota on the 1st, anything else at 00:00 UTC.
  const schedule = deactivation.quota_window === 'monthly' ? 'monthly' : 'daily_utc';
  const resetSchedule = r.read('quota_reset_schedule', schedule, oneOf(['monthly', 'daily_utc'] as const));
  // A model held by a quota comes back when its counters restart; a schedule that disagrees with the window
  // would bring it back (daily) while the monthly counter is still over the limit, or hold it a month for a
  // daily quota.
  const window = deactivation.quota_window;
  if (window !== null && resetSchedule !== (window === 'monthly' ? 'monthly' : 'daily_utc')) {
    r.problems.add(r.at('quota_reset_schedule'), `${resetSchedule} does not match deactivation.quota_window ${window} (use ${window === 'monthly' ? 'monthly' : 'daily_utc'}, or leave it out)`);
  }
  return {
    cooldown: r.read('cooldown', 60_000, duration),
    probe_on_start: r.read('probe_on_start', false, bool),
    probe_interval: r.read('probe_interval', null, duration),
    on_quota_reset: r.read('on_quota_reset', true, bool),
    quota_reset_schedule: resetSchedule,
  };
}

function readRetry(r: Section): RetryConfig {
  const initialDelay = r.read('initial_delay', 200, duration);
  const maxDelay = r.read('max_delay', 5_000, duration);
  if (initialDelay > maxDelay) {
    r.problems.add(r.at('initial_delay'), `${initialDelay}ms is longer than max_delay (${maxDelay}ms)`);
  }
  const defaultRetryable = [408, 429, 500, 502, 503, 504];
  const defaultNonRetryable = [400, 401, 403, 404, 422];
  let retryable = r.read('retryable_codes', defaultRetryable, statusList);
  let nonRetryable = r.read('non_retryable_codes', defaultNonRetryable, statusList);
  // A code written in one list leaves the other list's defaults (`retryable_codes: [404]` retries 404);
  // only a code written in both lists is a contradiction.
  if (r.has('retryable_codes') && !r.has('non_retryable_codes')) {
    nonRetryable = nonRetryable.filter((code) => !retryable.includes(code));
  } else if (r.has('non_retryable_codes') && !r.has('retryable_codes')) {
    retryable = retryable.filter((code) => !nonRetryable.includes(code));
  } else {
    const both = retryable.filter((code) => nonRetryable.includes(code));
    if (both.length > 0) {
      r.problems.add(r.at('non_retryable_codes'), `${both.join(', ')} also listed in retryable_codes`);
    }
  }
  return {
    max_attempts: r.read('max_attempts', 2, int(1)),
    backoff: r.read('backoff', 'exponential_jitter', oneOf(['fixed', 'exponential_jitter', 'retry_after'] as const)),
    initial_delay: initialDelay,
    max_delay: maxDelay,
    retryable_codes: retryable,
    non_retryable_codes: nonRetryable,
    scope: r.read('scope', 'same_model', oneOf(['same_model', 'same_provider', 'any'] as const)),
    honor_retry_after: r.read('honor_retry_after', true, bool),
  };
}
