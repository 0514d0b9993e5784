// The ModelMesh facade (DESIGN §2.2): owns config, providers, pools, the router, state and events.
// The proxy talks only to this class. A reload (SIGHUP) swaps the registry and router atomically while
// state, events and statistics carry over; requests in flight finish on the registry they started with.
import type { MeshConfig } from '../config/types.ts';
import { loadConfigFile } from '../config/load.ts';
import { buildConfig } from '../config/schema/index.ts';
import { createRedactor } from '../config/redact.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { silentLogger, type Logger } from '../log.ts';
import { EventBus } from './events.ts';
import { Registry } from './registry.ts';
import { Router } from './router.ts';
import { StateStore } from './state.ts';
import { describeModels, type ModelCard } from './listing.ts';
import { createRecoveryService } from './recovery.ts';
import { createStorageService } from '../storage/storage-service.ts';
import { createObservabilityService } from '../observability/service.ts';

export interface MeshOptions {
  clock?: Clock;
  logger?: Logger;
  /** Environment used for `${secrets:…}` with the env store; default process.env. */
  env?: Record<string, string | undefined>;
}

/**
 * Background work attached to a mesh (storage sync, observability sinks, probes, quota resets).
 * Started by `start()`, stopped in reverse order by `shutdown()`, told about reloads.
 */
export interface MeshService {
  readonly name: string;
  start?(): Promise<void> | void;
  /** Flush everything buffered and release timers/files. */
  stop?(): Promise<void> | void;
  reload?(config: MeshConfig): void;
}

export class ModelMesh {
  readonly clock: Clock;
  readonly events = new EventBus();
  readonly state: StateStore;
  logger: Logger;
  private current: { config: MeshConfig; registry: Registry; router: Router; redact: (text: string) => string };
  private readonly services: MeshService[] = [];
  private started = false;
  /** Config load time, seconds: the `created` of every /v1/models entry. */
  private loadedAt: number;

  constructor(config: MeshConfig, options: MeshOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.state = new StateStore(this.clock, this.events);
    this.current = this.build(config);
    this.loadedAt = Math.floor(this.clock.now() / 1000);
    // Started in this order, stopped in reverse: state is loaded before anything reads it, probes run on
    // loaded state, and at stop the logs flush before the final state save.
    this.services.push(createStorageService(this), createObservabilityService(this), createRecoveryService(this));
  }

  static fromFile(path: string, options: MeshOptions = {}): ModelMesh {
    return new ModelMesh(loadConfigFile(path, options.env ?? process.env), options);
  }

  /** From a plain object shaped like mesh.yaml (tests, embedding). */
  static fromConfig(raw: unknown, options: MeshOptions & { baseDir?: string } = {}): ModelMesh {
    const config = buildConfig(raw, { source: null, env: options.env ?? process.env, baseDir: options.baseDir ?? process.cwd() });
    return new ModelMesh(config, options);
  }

  private build(config: MeshConfig): ModelMesh['current'] {
    const registry = new Registry(config);
    const router = new Router(registry, this.state, this.events, this.clock, config.proxy.timeouts.deadline);
    return { config, registry, router, redact: createRedactor(config.secretValues) };
  }

  get config(): MeshConfig {
    return this.current.config;
  }

  get router(): Router {
    return this.current.router;
  }

  get registry(): Registry {
    return this.current.registry;
  }

  /** Replaces every secret value in `text` with [REDACTED]. */
  redact(text: string): string {
    return this.current.redact(text);
  }

  /** Swap in a new validated config; throws (and keeps the old one) if it cannot be built. */
  reload(config: MeshConfig): void {
    const next = this.build(config);
    const previous = this.current;
    this.current = next;
    this.loadedAt = Math.floor(this.clock.now() / 1000);
    // Old connectors finish their in-flight requests; idle sockets go now.
    previous.registry.close();
    for (const service of this.services) service.reload?.(config);
  }

  /** Attach a service; it starts with the mesh (or at once when the mesh already runs). */
  async use(service: MeshService): Promise<void> {
    this.services.push(service);
    if (this.started) await service.start?.();
  }

  service<T extends MeshService>(name: string): T | undefined {
    return this.services.find((s) => s.name === name) as T | undefined;
  }

  /** GET /v1/models: pools and aliases with their members and states. */
  listModels(): ModelCard[] {
    return describeModels(this.current.registry, this.state, this.loadedAt).filter((card) => card.modelmesh.kind !== 'model');
  }

  /** GET /v1/models/{id}: a pool, an alias or a model id. */
  findModel(id: string): ModelCard | undefined {
    return describeModels(this.current.registry, this.state, this.loadedAt).find((card) => card.id === id);
  }

  /** Start background work (state load, probes). Idempotent. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const service of this.services) await service.start?.();
  }

  /** Stop background work, flush state, logs and statistics, close upstream sockets. Idempotent. */
  async shutdown(): Promise<void> {
    // Services that never started are not stopped: a storage service must not save state it never loaded.
    const wasStarted = this.started;
    this.started = false;
    for (const service of wasStarted ? [...this.services].reverse() : []) {
      try {
        await service.stop?.();
      } catch (err) {
        this.logger.error('service failed to stop cleanly', { service: service.name, error: err });
      }
    }
    this.current.registry.close();
  }
}
