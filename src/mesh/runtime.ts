// What a background service may see of the mesh it runs in: the current config, registry and router
// inputs, state, events, clock, logger and redaction. Narrow on purpose: a service never starts, stops
// or reloads the mesh, and never finds another service by name (the composition root in mesh.ts wires them).
import type { MeshConfig } from '../config/types.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../log.ts';
import type { EventBus } from './events.ts';
import type { Registry } from './registry.ts';
import type { StateStore } from './state.ts';

export interface MeshRuntime {
  /** The config in force now (a reload replaces it; read it again rather than keeping it). */
  readonly config: MeshConfig;
  /** The registry in force now (same rule as `config`). */
  readonly registry: Registry;
  readonly state: StateStore;
  readonly events: EventBus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** State shared with other instances (storage.connector: modelmesh.redis.v1); absent or null when not shared. */
  readonly sharedState?: SharedStateStatus | null;
  /** Replaces every secret value in `text` with [REDACTED]. */
  redact(text: string): string;
}

/** Whether the shared state store can be used now (the modelmesh_shared_state_up gauge, on_unavailable). */
export interface SharedStateStatus {
  readonly up: boolean;
  /** True while it is unreachable and on_unavailable is closed: traffic under a shared limit is refused. */
  readonly refusing: boolean;
}

/**
 * Background work attached to a mesh (storage sync, observability sinks, probes, quota resets).
 * Started by the mesh's `start()`, stopped in reverse order by `shutdown()`, told about reloads.
 */
export interface MeshService {
  readonly name: string;
  start?(): Promise<void> | void;
  /** Flush everything buffered and release timers/files. */
  stop?(): Promise<void> | void;
  reload?(config: MeshConfig): void;
}
