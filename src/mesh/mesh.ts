// The ModelMesh facade (DESIGN §2.2) and composition root: owns config, providers, pools, the router, state
// and events, and builds the background services as typed fields, started and stopped in one explicit order.
// The proxy talks only to this class. A reload (SIGHUP) builds a new generation (config, registry, router)
// while state, events and statistics carry over; a request holds the generation it started with
// (`view()` → MeshLease) and the old generation's connectors close only after its last request released it.
import { ClientLimiter } from '../clients/limits.ts';
import { ClientRegistry } from '../clients/registry.ts';
import type { MeshConfig } from '../config/types.ts';
import { loadConfigFile } from '../config/load.ts';
import { buildConfig } from '../config/schema/index.ts';
import { createRedactor } from '../config/redact.ts';
import { systemClock, type Clock } from '../lib/clock.ts';
import { within } from '../lib/within.ts';
import { LocalWindowCounters, type WindowCounters } from '../lib/window-counters.ts';
import { silentLogger, type Logger } from '../log.ts';
import { createObservabilityService, type ObservabilityService } from '../observability/service.ts';
import { ResponseStore } from '../protocols/responses/store.ts';
import { createStorageService, type StorageService } from '../storage/storage-service.ts';
import { SharedState } from '../storage/redis/shared-state.ts';
import { EventBus } from './events.ts';
import { describeModels, type ModelCard } from './listing.ts';
import { createRecoveryService, type RecoveryService } from './recovery.ts';
import { Registry } from './registry.ts';
import { Router } from './router.ts';
import type { MeshRuntime } from './runtime.ts';
import { LocalStateStore } from './local-state.ts';
import type { StateStore } from './state.ts';
import type { MeshLease, MeshView } from './view.ts';
import { LocalSessionPins, type SessionPinStore } from './strategies/session-pins.ts';

/** Longest each service gets to stop at shutdown, at least (recovery, observability, storage, shared state in turn). */
export const SERVICE_STOP_MS = 5_000;

export interface MeshOptions {
  clock?: Clock;
  logger?: Logger;
  /** Environment used for `${secrets:…}` with the env store; default process.env. */
  env?: Record<string, string | undefined>;
  /** Windowed counters (client limits); default in-process LocalWindowCounters. */
  counters?: WindowCounters;
}

/** One config load: everything a request needs, and how many requests still hold it. */
interface Generation {
  readonly config: MeshConfig;
  readonly registry: Registry;
  readonly router: Router;
  readonly clients: ClientRegistry;
  readonly redact: (text: string) => string;
  /** Config load time, seconds: the `created` of every /v1/models entry. */
  readonly loadedAt: number;
  /** Built once per generation: taking a view costs one small object per request. */
  view: MeshView;
  leases: number;
  retired: boolean;
}

/** One request's hold on a generation. */
class Lease implements MeshLease {
  readonly config: MeshConfig;
  readonly router: Router;
  readonly logger: Logger;
  readonly runtime: MeshRuntime;
  readonly observability: ObservabilityService;
  readonly responses: ResponseStore;
  readonly clients: ClientRegistry;
  readonly limiter: ClientLimiter;
  readonly #view: MeshView;
  #release: (() => void) | null;

  constructor(view: MeshView, release: () => void) {
    this.#view = view;
    this.config = view.config;
    this.router = view.router;
    this.logger = view.logger;
    this.runtime = view.runtime;
    this.observability = view.observability;
    this.responses = view.responses;
    this.clients = view.clients;
    this.limiter = view.limiter;
    this.#release = release;
  }

  redact(text: string): string {
    return this.#view.redact(text);
  }

  listModels(): ModelCard[] {
    return this.#view.listModels();
  }

  findModel(id: string): ModelCard | undefined {
    return this.#view.findModel(id);
  }

  release(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }
}

export class ModelMesh implements MeshRuntime {
  readonly clock: Clock;
  readonly events = new EventBus();
  readonly state: StateStore;
  /** Window counters (quotas, budgets, client limits): local by default, shared when storage is on Redis. */
  readonly counters: WindowCounters;
  logger: Logger;
  /** Loads state before anything reads it; saves it last at stop. */
  readonly storage: StorageService;
  /** Statistics (/metrics) and the log streams. */
  readonly observability: ObservabilityService;
  /** Probes, cooldown sweeps, quota resets, maintenance windows. */
  readonly recovery: RecoveryService;
  /**
   * Responses the proxy produced, for previous_response_id (issue 14). One per process and kept across reloads
   * (a reload must not forget conversations in progress); its size and TTL are read at start.
   */
  readonly responses: ResponseStore;
  /** State shared with other instances through Redis (storage.connector: modelmesh.redis.v1); null otherwise. */
  readonly sharedState: SharedState | null;
  /** Session pins (session-stickiness): one per process, kept across reloads; shared when storage is on Redis. */
  readonly sessionPins: SessionPinStore;
  /** Client rpm/tpm/concurrency/budgets: one per process, so usage survives reloads (issue 12). */
  readonly clientLimiter: ClientLimiter;
  #current: Generation;
  /** Retired generations still held by requests in flight (closed when the last one releases). */
  readonly #retired = new Set<Generation>();
  #started = false;

  constructor(config: MeshConfig, options: MeshOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    const redis = config.storage.redis ?? null;
    // Redis settings are read once: a reload does not move a running mesh to another Redis.
    this.sharedState = redis === null ? null : new SharedState(redis, this.clock);
    this.counters = this.sharedState?.counters ?? options.counters ?? new LocalWindowCounters(this.clock);
    this.sessionPins = this.sharedState?.sessionPins ?? new LocalSessionPins();
    this.state = new LocalStateStore(this.clock, this.events, this.counters, () => this.sharedState?.refusing === true);
    const store = config.proxy.responses;
    this.responses = new ResponseStore({ maxEntries: store.store_size, ttlMs: store.store_ttl, clock: this.clock });
    this.clientLimiter = new ClientLimiter(this.counters, this.clock);
    this.#current = this.#build(config);
    this.storage = createStorageService(this, { clients: this.clientLimiter });
    this.observability = createObservabilityService(this);
    this.recovery = createRecoveryService(this);
    this.sharedState?.attach(this);
  }

  static fromFile(path: string, options: MeshOptions = {}): ModelMesh {
    return new ModelMesh(loadConfigFile(path, options.env ?? process.env), options);
  }

  /** From a plain object shaped like mesh.yaml (tests, embedding). */
  static fromConfig(raw: unknown, options: MeshOptions & { baseDir?: string } = {}): ModelMesh {
    const config = buildConfig(raw, { source: null, env: options.env ?? process.env, baseDir: options.baseDir ?? process.cwd() });
    return new ModelMesh(config, options);
  }

  #build(config: MeshConfig): Generation {
    const registry = new Registry(config, { sessionPins: this.sessionPins });
    const loadedAt = Math.floor(this.clock.now() / 1000);
    const redact = createRedactor(config.secretValues);
    const router = new Router(registry, this.state, this.events, this.clock, config.proxy.timeouts.deadline, redact);
    const clients = new ClientRegistry(config.clients.values(), config.pools);
    // Logger and observability are read at use: the logger may be replaced after construction (embedding, tests).
    const mesh = { logger: (): Logger => this.logger, observability: (): ObservabilityService => this.observability };
    const runtime: MeshRuntime = {
      config, registry, state: this.state, events: this.events, clock: this.clock, redact, sharedState: this.sharedState,
      get logger(): Logger {
        return mesh.logger();
      },
    };
    const cards = (): ModelCard[] => describeModels(registry, this.state, loadedAt);
    const limiter = this.clientLimiter;
    const view: MeshView = {
      config, router, redact, runtime, clients, limiter, responses: this.responses,
      get logger(): Logger {
        return mesh.logger();
      },
      get observability(): ObservabilityService {
        return mesh.observability();
      },
      listModels: () => cards().filter((card) => card.modelmesh.kind !== 'model'),
      // A card's own id, else any other name that routes (a model's unique upstream name): retrieve, then use.
      findModel: (id) => {
        const own = cards().find((card) => card.id === id);
        if (own !== undefined) return own;
        const target = registry.names.get(id);
        return target?.kind === 'model' ? cards().find((card) => card.id === target.model.id) : undefined;
      },
    };
    return { config, registry, router, clients, redact, loadedAt, view, leases: 0, retired: false };
  }

  get config(): MeshConfig {
    return this.#current.config;
  }

  get router(): Router {
    return this.#current.router;
  }

  get registry(): Registry {
    return this.#current.registry;
  }

  /** The clients of the current config. */
  get clients(): ClientRegistry {
    return this.#current.clients;
  }

  /** Replaces every secret value in `text` with [REDACTED]. */
  redact(text: string): string {
    return this.#current.redact(text);
  }

  /** The current generation as one request's view; call `release()` when the request has ended. */
  view(): MeshLease {
    const generation = this.#current;
    generation.leases++;
    return new Lease(generation.view, () => {
      generation.leases--;
      this.#closeIfDone(generation);
    });
  }

  /** Swap in a new validated config; throws (and keeps the old one) if it cannot be built. */
  reload(config: MeshConfig): void {
    const next = this.#build(config);
    const previous = this.#current;
    this.#current = next;
    previous.retired = true;
    this.#retired.add(previous);
    // Requests in flight keep the previous generation's connectors; they close after the last one ends.
    this.#closeIfDone(previous);
    this.storage.reload(config);
    this.observability.reload(config);
    this.recovery.reload();
  }

  /** GET /v1/models: pools and aliases with their members and states. */
  listModels(): ModelCard[] {
    return this.#current.view.listModels();
  }

  /** GET /v1/models/{id}: a pool, an alias or a model id. */
  findModel(id: string): ModelCard | undefined {
    return this.#current.view.findModel(id);
  }

  /** Start background work in order: state is loaded before anything reads it, probes run on loaded state. Idempotent. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.storage.start();
    // After the state file (Redis holds win over it), before traffic and probes.
    await this.sharedState?.start();
    this.observability.start();
    this.recovery.start();
  }

  /** Stop background work in reverse order, flush state, logs and statistics, close upstream sockets. Idempotent. */
  async shutdown(): Promise<void> {
    // Services that never started are not stopped: a storage service must not save state it never loaded.
    const wasStarted = this.#started;
    this.#started = false;
    if (wasStarted) {
      // Probes stop first; the logs flush before the final state save.
      await this.#stop('recovery', () => this.recovery.stop());
      await this.#stop('observability', () => this.observability.stop());
      await this.#stop('storage', () => this.storage.stop());
    }
    // Also when never started: its counters timer and connections exist from construction.
    if (this.sharedState !== null) await this.#stop('shared-state', () => this.sharedState?.stop());
    for (const generation of this.#retired) generation.registry.close();
    this.#retired.clear();
    this.#current.registry.close();
  }

  // One service's stop, bounded: one that never settles (a log file on a filesystem that stopped answering) must
  // not keep the state save after it from running before systemd's TimeoutStopSec kills the process. A Redis
  // store's last writes get their own timeouts (a connect and a few commands) when those are longer.
  async #stop(name: string, stop: () => Promise<void> | void): Promise<void> {
    const r = this.config.storage.redis;
    const ms = r === undefined ? SERVICE_STOP_MS : Math.max(SERVICE_STOP_MS, r.connect_timeout + 3 * r.command_timeout);
    try {
      if (!(await within(this.clock, ms, stop))) this.logger.error('service did not stop in time', { service: name, waited_ms: ms });
    } catch (err) {
      this.logger.error('service failed to stop cleanly', { service: name, error: err });
    }
  }

  #closeIfDone(generation: Generation): void {
    if (!generation.retired || generation.leases > 0 || !this.#retired.delete(generation)) return;
    generation.registry.close();
  }
}
