// What an endpoint sees of the mesh: one snapshot per request, taken when the request arrives. A reload
// builds a new generation (config, registry, router); a request keeps the one it started with to the end,
// and that generation's upstream connections close only after its last request has released it.
import type { ClientLimiter } from '../clients/limits.ts';
import type { ClientRegistry } from '../clients/registry.ts';
import type { MeshConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ObservabilityService } from '../observability/service.ts';
import type { ResponseStore } from '../protocols/responses/store.ts';
import type { ModelCard } from './listing.ts';
import type { Router } from './router.ts';
import type { MeshRuntime } from './runtime.ts';

export interface MeshView {
  /** The config of this request's generation (never changes during the request). */
  readonly config: MeshConfig;
  /** The router (and so the provider connectors) of this request's generation. */
  readonly router: Router;
  readonly logger: Logger;
  /** Replaces every secret value of this generation's config in `text` with [REDACTED]. */
  redact(text: string): string;
  /** GET /v1/models: pools and aliases with their members and states. */
  listModels(): ModelCard[];
  /** GET /v1/models/{id}: a pool, an alias or a model id. */
  findModel(id: string): ModelCard | undefined;
  /** State, registry and clock of this generation, for the admin API (/mesh/...). */
  readonly runtime: MeshRuntime;
  /** Statistics and sink counters, for /metrics. */
  readonly observability: ObservabilityService;
  /** The responses the proxy produced (previous_response_id, GET/DELETE /v1/responses/{id}): one per process, kept across reloads. */
  readonly responses: ResponseStore;
  /** The configured clients of this generation (`clients:`): a key revoked by a reload is unknown here. */
  readonly clients: ClientRegistry;
  /** The one client limiter of the process: usage outlives every generation. */
  readonly limiter: ClientLimiter;
}

/** A view held by one request: `release()` exactly once when the request has ended (extra calls are no-ops). */
export interface MeshLease extends MeshView {
  release(): void;
}
