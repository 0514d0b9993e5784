// The normalised, validated configuration (DESIGN §3; every attribute: shared/reference/config-attributes.md).
// The schema turns raw YAML into these objects once at load; nothing downstream re-reads raw config.
// Durations are milliseconds; money is USD; limits are bytes.
import type { TracingConfig } from '../observability/tracing/config.ts';

export type SyncPolicy = 'in-memory' | 'sync-on-boundary' | 'periodic' | 'immediate';
export type Backoff = 'fixed' | 'exponential_jitter' | 'retry_after';
export type RetryScope = 'same_model' | 'same_provider' | 'any';
export type QuotaWindow = 'daily' | 'monthly';
export type LogLevel = 'metadata' | 'summary' | 'full';
export type ObservabilityConnector = 'modelmesh.console.v1' | 'modelmesh.local-file.v1' | 'modelmesh.webhook.v1';

/** The OpenAI routes of the proxy (the keys of `proxy.endpoints`). */
export const OPENAI_ROUTES = [
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/audio/speech',
  '/v1/audio/transcriptions',
  '/v1/audio/translations',
  '/v1/images/generations',
  '/v1/completions',
  '/v1/moderations',
  '/v1/images/edits',
  '/v1/models',
  '/v1/responses',
  '/v1/messages',
] as const;
export type OpenAiRoute = (typeof OPENAI_ROUTES)[number];

export interface SecretsConfig {
  store: 'modelmesh.env.v1' | 'modelmesh.dotenv.v1';
  /** dotenv file, resolved against the config file's folder. */
  path: string | null;
}

export interface ProxyConfig {
  host: string;
  port: number;
  /** Enabled OpenAI routes (`/v1/...` form); all by default. */
  endpoints: OpenAiRoute[];
  auth: { enabled: boolean; method: 'bearer'; tokens: string[] };
  cors: { enabled: boolean; origins: string[]; max_age: number };
  limits: { max_body: number; max_upload: number };
  timeouts: {
    /** node:http headersTimeout */
    headers: number;
    /** node:http requestTimeout (receiving the whole request) */
    request: number;
    /** node:http keepAliveTimeout */
    keep_alive: number;
    /** Bound of the whole routing attempt loop for one request (DESIGN §4.4). */
    deadline: number;
  };
  drain_timeout: number;
  metrics: { enabled: boolean; path: string };
  admin: { tokens: string[] };
  /** The store behind `previous_response_id` and GET/DELETE /v1/responses/{id}: entries and time to live (ms). */
  responses: { store_size: number; store_ttl: number };
}

/**
 * Protocols besides chat an upstream can serve as is (`native_protocols`): `responses` (POST /responses below the
 * base URL), `messages` (Anthropic's POST /messages). Other requests of those protocols are translated to chat.
 */
export const NATIVE_PROTOCOLS = ['responses', 'messages'] as const;
export type NativeProtocol = (typeof NATIVE_PROTOCOLS)[number];

export interface ProviderTimeouts {
  connect: number;
  first_byte: number;
  /** Longest silence between two body chunks of a streaming answer. */
  idle: number;
  total: number;
}

export interface ProviderConfig {
  id: string;
  /** Connector id, e.g. `openai.llm.v1`, `anthropic.claude.v1`, `modelmesh.simulated.v1`. */
  connector: string;
  /** false only when the operator disabled it or a secret is missing (then `skipped` says why). */
  enabled: boolean;
  /** Why a provider was skipped at load (missing secret), for --check and /mesh/status. */
  skipped: string | null;
  base_url: string | null;
  api_key: string | null;
  headers: Record<string, string>;
  timeouts: ProviderTimeouts;
  /** Keep-alive socket limit of the provider's Agent. */
  max_sockets: number;
  /** Data-plane HTTP client: `modelmesh` (own HTTP/1.1 client, providers/http/h1) or `node` (node:http). */
  http_client: 'modelmesh' | 'node';
  budget: { daily_limit: number | null; monthly_limit: number | null };
  /** Protocols its upstream serves natively; absent: the connector's default (OpenAI: responses; Anthropic: messages). */
  native_protocols?: NativeProtocol[];
  /** modelmesh.simulated.v1 knobs (failover drills); ignored by other connectors. */
  simulated: { latency: number; failure_rate: number; chunk_interval: number; dimensions: number };
}

export interface ModelFeatures {
  tool_calling: boolean | null;
  structured_output: boolean | null;
  json_mode: boolean | null;
  system_prompt: boolean | null;
  grounding: boolean | null;
  logprobs: boolean | null;
  fine_tunable: boolean | null;
}

export interface ModelConfig {
  /** Dot-notated id, `vendor.model-name`. */
  id: string;
  provider: string;
  /** Upstream model name; default: the part of the id after the first dot. */
  name: string;
  /** Capability names as written (full path or unique leaf); the mesh resolves them against the tree. */
  capabilities: string[];
  delivery: { synchronous: boolean; streaming: boolean; batch: boolean };
  features: ModelFeatures;
  constraints: {
    context_window: number | null;
    max_output_tokens: number | null;
    max_images: number | null;
    max_file_size: number | null;
    supported_languages: string[] | null;
  };
  pricing: { input_per_1m: number; output_per_1m: number };
  /** Overrides the provider's `native_protocols` for this model (e.g. `[]`: always translate). */
  native_protocols?: NativeProtocol[];
}

export interface RetryConfig {
  max_attempts: number;
  backoff: Backoff;
  initial_delay: number;
  max_delay: number;
  retryable_codes: number[];
  non_retryable_codes: number[];
  scope: RetryScope;
  honor_retry_after: boolean;
}

export interface DeactivationConfig {
  /** Consecutive failures before standby; 0 disables the rule. */
  retry_limit: number;
  /** Failure ratio (0–1) over the sliding window; null disables. */
  error_rate_threshold: number | null;
  /** Sliding window size in requests for error_rate_threshold. */
  error_rate_window: number;
  /** Upstream statuses that put a model in standby at once. */
  error_codes: number[];
  request_limit: number | null;
  token_limit: number | null;
  budget_limit: number | null;
  quota_window: QuotaWindow | null;
  /** Daily UTC window `HH:MM-HH:MM` during which the pool's models are kept in standby. */
  maintenance_window: string | null;
}

export interface RecoveryConfig {
  cooldown: number;
  probe_on_start: boolean;
  probe_interval: number | null;
  on_quota_reset: boolean;
  quota_reset_schedule: 'monthly' | 'daily_utc';
}

export interface PoolConfig {
  name: string;
  /** Capability node as written (null: the pool name when that is a node, else explicit models only). */
  capability: string | null;
  models: string[];
  aliases: string[];
  /** Only models of these providers (null: all). */
  providers: string[] | null;
  excluded_providers: string[];
  model_priority: string[];
  provider_priority: string[];
  strategy: string;
  fallback_strategy: string | null;
  balance_mode: 'absolute' | 'relative';
  deactivation: DeactivationConfig;
  recovery: RecoveryConfig;
  retry: RetryConfig;
  rate_limit: { threshold: number; min_delta: number; max_rpm: number | null };
  provider_deactivation: ('on_auth_failure' | 'on_api_outage')[];
  provider_recovery: 'on_probe_success' | 'on_manual';
}

/** `storage.connector: modelmesh.redis.v1` (issue 13): state shared by every instance through Redis/Valkey. */
export interface RedisStorageConfig {
  /** redis://[user:password@]host[:port][/db] or rediss:// (secrets resolved; never logged: see describeRedisUrl). */
  url: string;
  key_prefix: string;
  connect_timeout: number;
  command_timeout: number;
  flush_interval: number;
  /** open: keep serving on local counts while Redis is down; closed: refuse traffic a shared limit applies to. */
  on_unavailable: 'open' | 'closed';
}

export interface StorageConfig {
  connector: 'modelmesh.local-file.v1' | 'modelmesh.redis.v1';
  /** Set when connector is modelmesh.redis.v1 (absent otherwise). */
  redis?: RedisStorageConfig;
  /** null: state kept in memory only. */
  path: string | null;
  sync_policy: SyncPolicy;
  sync_interval: number;
}

export interface SinkConfig {
  connector: ObservabilityConnector | null; // null: off
  path: string | null;
  url: string | null;
  headers: Record<string, string>;
  batch_size: number;
  flush_interval: number;
}

export interface ObservabilityConfig {
  routing: SinkConfig;
  logging: SinkConfig & { level: LogLevel };
  statistics: SinkConfig;
  /** OTLP/HTTP JSON trace export (issue 17); `enabled: false` when the section is absent. */
  tracing: TracingConfig;
}

/** One application allowed to call the proxy (`clients:`; issue 12). Never holds the key itself. */
export interface ClientConfig {
  /** Letters, digits, `.`, `_`, `-`: the name appears in URLs, logs and metric labels. */
  name: string;
  /** SHA-256 of the key's UTF-8 bytes, 64 lowercase hex digits (from `key` or `key_sha256`). */
  key_sha256: string;
  /** Pool names, aliases and model ids the client may use, as written; null: all. */
  pools: string[] | null;
  /** Requests per fixed UTC minute; null: unlimited. */
  rpm: number | null;
  /** Tokens (prompt + completion, as the upstream reported) per fixed UTC minute; null: unlimited. */
  tpm: number | null;
  /** Requests in flight at once (per instance); null: unlimited. */
  max_concurrent: number | null;
  /** USD per UTC day / UTC month; null: unlimited. */
  budget: { daily: number | null; monthly: number | null };
  /** Free-form labels (team, owner), shown by the admin API. */
  metadata: Record<string, string>;
}

export interface MeshConfig {
  /** Absolute path of the file it came from, or null when built from an object. */
  source: string | null;
  secrets: SecretsConfig;
  proxy: ProxyConfig;
  /** Custom capability nodes, full dotted paths (`generation.text-generation.legal-drafting`). */
  capabilities: string[];
  providers: Map<string, ProviderConfig>;
  models: Map<string, ModelConfig>;
  pools: Map<string, PoolConfig>;
  clients: Map<string, ClientConfig>;
  storage: StorageConfig;
  observability: ObservabilityConfig;
  /** Secret values resolved while loading: the redaction list (never printed). */
  secretValues: string[];
  /** Non-fatal findings (skipped providers …) to log at start and print with --check. */
  warnings: string[];
}
