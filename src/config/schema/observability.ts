// The `storage:` and `observability:` sections (DESIGN §6, §7). File paths are resolved against the config
// file's folder, so a mesh.yaml works the same whatever the working directory of the service.

import { resolve } from 'node:path';
import type {
  LogLevel,
  ObservabilityConfig,
  ObservabilityConnector,
  RedisStorageConfig,
  SinkConfig,
  StorageConfig,
  SyncPolicy,
} from '../types.ts';
import { Section, duration, httpUrl, int, oneOf, str, stringMap } from './check.ts';
import { TRACING_KEYS, readTracing } from '../../observability/tracing/config.ts';
import { parseRedisUrl } from '../../storage/redis/url.ts';

const STORAGE_CONNECTORS = ['modelmesh.local-file.v1', 'modelmesh.redis.v1'] as const;
const REDIS_KEYS = ['url', 'key_prefix', 'connect_timeout', 'command_timeout', 'flush_interval', 'on_unavailable'];
const SYNC_POLICIES = ['in-memory', 'sync-on-boundary', 'periodic', 'immediate'] as const;
const SINK_CONNECTORS = ['modelmesh.console.v1', 'modelmesh.local-file.v1', 'modelmesh.webhook.v1'] as const;
const SINK_KEYS = ['connector', 'path', 'url', 'headers', 'batch_size', 'flush_interval'];
const LOG_LEVELS = ['metadata', 'summary', 'full'] as const;

export function readStorage(root: Section, baseDir: string): StorageConfig {
  // The Redis keys are known only with the Redis connector (a `url` under the local file is a mistake).
  const raw = root.raw('storage');
  const redis = typeof raw === 'object' && raw !== null && (raw as Record<string, unknown>)['connector'] === 'modelmesh.redis.v1';
  const s = root.section('storage', ['connector', 'path', 'sync_policy', 'sync_interval', ...(redis ? REDIS_KEYS : [])]);
  const written = s.read('path', null, str);
  const path = written === null ? null : resolve(baseDir, written);
  const fallback: SyncPolicy = path === null ? 'in-memory' : 'sync-on-boundary';
  const policy = s.read('sync_policy', fallback, oneOf(SYNC_POLICIES));
  if (policy !== 'in-memory' && path === null && s.has('sync_policy')) {
    s.problems.add(s.at('sync_policy'), `"${policy}" writes state to a file: set storage.path, or use in-memory`);
  }
  const connector = s.read('connector', 'modelmesh.local-file.v1', oneOf(STORAGE_CONNECTORS));
  const shared = connector === 'modelmesh.redis.v1' ? readRedis(s) : null;
  return {
    connector,
    ...(shared === null ? {} : { redis: shared }),
    path,
    sync_policy: policy,
    sync_interval: s.read('sync_interval', 30_000, duration),
  };
}

/** The Redis options of `storage:` (issue 13); the URL is checked here, its password never quoted. */
function readRedis(s: Section): RedisStorageConfig {
  const url = s.require('url', str);
  if (url !== undefined) {
    try {
      parseRedisUrl(url);
    } catch (err) {
      s.problems.add(s.at('url'), err instanceof Error ? err.message : 'invalid Redis URL');
    }
  }
  const flush = s.read('flush_interval', 100, duration);
  if (flush < 10 || flush > 5000) s.problems.add(s.at('flush_interval'), `expected a duration between 10ms and 5s, got ${flush}ms`);
  return {
    url: url ?? '',
    key_prefix: s.read('key_prefix', 'modelmesh:', str),
    connect_timeout: s.read('connect_timeout', 2000, duration),
    command_timeout: s.read('command_timeout', 1000, duration),
    flush_interval: flush,
    on_unavailable: s.read('on_unavailable', 'open', oneOf(['open', 'closed'] as const)),
  };
}

function readSink(s: Section, baseDir: string, flushInterval: number): SinkConfig {
  const off: SinkConfig = {
    connector: null,
    path: null,
    url: null,
    headers: {},
    batch_size: 100,
    flush_interval: flushInterval,
  };
  // An absent section is an off sink; a written one must say where records go.
  if (Object.keys(s.data).length === 0) return off;
  const connector: ObservabilityConnector | undefined = s.require('connector', oneOf(SINK_CONNECTORS));
  const written = s.read('path', null, str);
  const url = s.read('url', null, httpUrl);
  if (connector === 'modelmesh.local-file.v1' && written === null && !s.has('path')) {
    s.problems.add(s.at('path'), 'required by modelmesh.local-file.v1');
  }
  if (connector === 'modelmesh.webhook.v1' && url === null && !s.has('url')) {
    s.problems.add(s.at('url'), 'required by modelmesh.webhook.v1');
  }
  return {
    connector: connector ?? null,
    path: written === null ? null : resolve(baseDir, written),
    url,
    headers: s.read('headers', {}, stringMap),
    batch_size: s.read('batch_size', 100, int(1)),
    flush_interval: s.read('flush_interval', flushInterval, duration),
  };
}

export function readObservability(root: Section, baseDir: string): ObservabilityConfig {
  const o = root.section('observability', ['routing', 'logging', 'statistics', 'tracing']);
  const logging = o.section('logging', [...SINK_KEYS, 'level']);
  const level: LogLevel = logging.read('level', 'metadata', oneOf(LOG_LEVELS));
  return {
    routing: readSink(o.section('routing', SINK_KEYS), baseDir, 5_000),
    logging: { ...readSink(logging, baseDir, 5_000), level },
    statistics: readSink(o.section('statistics', SINK_KEYS), baseDir, 60_000),
    tracing: readTracing(o.section('tracing', TRACING_KEYS)),
  };
}
