// `observability.tracing` (issue 17): OTLP/HTTP JSON export of request spans. Parsed on its own so the
// schema can call it when it is wired in:
//
//   observability:
//     tracing:
//       enabled: true                       # default: true when the section is written
//       endpoint: http://otel-collector:4318  # base URL; /v1/traces is appended unless already there
//       headers: {Authorization: "Bearer ${secrets:OTLP_TOKEN}"}
//       sample_ratio: 1.0                   # 0..1, for traces that do not arrive with a traceparent
//       service_name: modelmesh
//       timeout: 10s                        # per export POST
//       batch_size: 512                     # spans per POST
//       queue_size: 2048                    # spans waiting; more are dropped and counted
//       flush_interval: 1s
//       capture_content: false              # prompt and answer JSON in spans: opt-in
import { Problems, Section, bool, duration, httpUrl, int, num, str, stringMap, type Problem } from '../../config/schema/check.ts';
import { OTLP_TRACES_PATH } from './otlp.ts';

export interface TracingConfig {
  enabled: boolean;
  /** The full export URL, `…/v1/traces`; null when tracing is off. */
  endpoint: string | null;
  headers: Record<string, string>;
  sample_ratio: number;
  service_name: string;
  /** ms */
  timeout: number;
  batch_size: number;
  queue_size: number;
  /** ms */
  flush_interval: number;
  capture_content: boolean;
}

export const TRACING_KEYS = [
  'enabled', 'endpoint', 'headers', 'sample_ratio', 'service_name', 'timeout', 'batch_size', 'queue_size',
  'flush_interval', 'capture_content',
] as const;

export const TRACING_OFF: TracingConfig = {
  enabled: false, endpoint: null, headers: {}, sample_ratio: 1, service_name: 'modelmesh', timeout: 10_000,
  batch_size: 512, queue_size: 2048, flush_interval: 1_000, capture_content: false,
};

export type TracingParse = { ok: true; config: TracingConfig } | { ok: false; problems: Problem[] };

/**
 * Like OTEL_EXPORTER_OTLP_ENDPOINT: a base URL gets `/v1/traces`; a URL whose path already ends in it is kept.
 * Only the path changes: a query (a tenant, a token some collectors take there) stays where it was.
 */
export function tracesUrl(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return endpoint; // not reached: httpUrl() validated it
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith(OTLP_TRACES_PATH) ? path : `${path}${OTLP_TRACES_PATH}`;
  url.hash = '';
  return url.toString();
}

/** Reads the section at `path` (`observability.tracing`) into a Section-based reader's problems. */
export function readTracing(s: Section): TracingConfig {
  if (Object.keys(s.data).length === 0) return { ...TRACING_OFF, headers: {} };
  const enabled = s.read('enabled', true, bool);
  const endpoint = s.read('endpoint', null, httpUrl);
  if (enabled && endpoint === null && !s.has('endpoint')) s.problems.add(s.at('endpoint'), 'required when tracing is enabled');
  const batch = s.read('batch_size', TRACING_OFF.batch_size, int(1, 100_000));
  const queue = s.read('queue_size', TRACING_OFF.queue_size, int(1, 1_000_000));
  if (queue < batch) s.problems.add(s.at('queue_size'), `must be at least batch_size (${batch})`);
  return {
    enabled: enabled && endpoint !== null,
    endpoint: endpoint === null ? null : tracesUrl(endpoint),
    headers: s.read('headers', {}, stringMap),
    sample_ratio: s.read('sample_ratio', 1, num(0, 1)),
    service_name: s.read('service_name', 'modelmesh', str),
    timeout: s.read('timeout', TRACING_OFF.timeout, duration),
    batch_size: batch,
    queue_size: queue,
    flush_interval: s.read('flush_interval', TRACING_OFF.flush_interval, duration),
    capture_content: s.read('capture_content', false, bool),
  };
}

/** Standalone: the parsed section, or every problem as `<path>.<key>: <message>` entries. */
export function parseTracingConfig(raw: unknown, path = 'observability.tracing'): TracingParse {
  const problems = new Problems();
  const config = readTracing(new Section(problems, path, raw, TRACING_KEYS));
  return problems.list.length === 0 ? { ok: true, config } : { ok: false, problems: problems.list };
}
