// The storage service (DESIGN §6): loads model/provider state when the mesh starts and saves it according to
// `storage.sync_policy`:
//   in-memory         never touches disk;
//   sync-on-boundary  load at start, save at stop;
//   periodic          load at start, save every sync_interval when state.version moved, and at stop;
//   immediate         save after every change: at most one write in flight plus one pending (a burst of
//                     changes costs two writes, and the pending one snapshots after the last change, so
//                     the last change is never lost), plus a sync_interval backstop and a save at stop.
// Nothing here runs on the request path but an O(1) event check; snapshots and writes happen off it.
import type { MeshConfig, StorageConfig } from '../config/types.ts';
import type { TimerHandle } from '../lib/clock.ts';
import type { MeshRuntime, MeshService } from '../mesh/runtime.ts';
import type { StateSnapshot } from '../mesh/state.ts';
import type { AtomicFs } from './atomic-write.ts';
import { LocalFileStore } from './local-file.ts';

/** Minimum gap between two identical "save failed" warnings (a full disk must not flood the log). */
const WARN_EVERY_MS = 60_000;

export interface StorageService extends MeshService {
  start(): Promise<void>;
  stop(): Promise<void>;
  reload(config: MeshConfig): void;
  /** Saves started and completed successfully so far. */
  readonly saves: number;
  /** Saves that failed (logged; retried at the next interval, change or stop). */
  readonly failures: number;
  /** Resolves when no save is in flight or pending (tests, shutdown). */
  idle(): Promise<void>;
  /** Saves now (when the policy persists at all), whatever the version. */
  saveNow(): Promise<void>;
}

/** Per-client usage saved next to the model state (src/clients/limits.ts ClientLimiter; issue 12 §5). */
export interface ClientUsageStore {
  snapshot(): unknown;
  /** Called once, after the state file was read, before traffic. False when the snapshot is not one it reads. */
  restore(snapshot: unknown): boolean;
}

export function createStorageService(mesh: MeshRuntime, options: { fs?: AtomicFs; clients?: ClientUsageStore } = {}): StorageService {
  return new Storage(mesh, options.fs, options.clients ?? null);
}

/** The storage keys naming the shared state store that differ between `running` and `next`. */
function sharedStoreChanges(running: StorageConfig, next: StorageConfig): string[] {
  const changed = running.connector === next.connector ? [] : ['storage.connector'];
  if (running.redis === undefined || next.redis === undefined) return changed;
  for (const key of ['url', 'key_prefix', 'connect_timeout', 'command_timeout', 'flush_interval', 'on_unavailable'] as const) {
    if (running.redis[key] !== next.redis[key]) changed.push(`storage.${key}`);
  }
  return changed;
}

function persists(config: StorageConfig): config is StorageConfig & { path: string } {
  return config.sync_policy !== 'in-memory' && config.path !== null;
}

class Storage implements StorageService {
  readonly name = 'storage';
  readonly #mesh: MeshRuntime;
  readonly #fs: AtomicFs | undefined;
  readonly #clients: ClientUsageStore | null;
  #config: StorageConfig;
  #store: LocalFileStore | null = null;
  #running = false;
  /** state.version at the last successful save (or load); -1 forces the next save. */
  #savedVersion = -1;
  #inFlight: Promise<void> | null = null;
  #pending = false;
  #deferred = false;
  #timer: TimerHandle | null = null;
  #unsubscribe: (() => void) | null = null;
  #lastWarn = -Infinity;
  /** The load of start(): stop() waits for it, so a stop during startup never saves over a file not yet read. */
  #loading: Promise<void> = Promise.resolve();
  saves = 0;
  failures = 0;

  constructor(mesh: MeshRuntime, fs: AtomicFs | undefined, clients: ClientUsageStore | null) {
    this.#mesh = mesh;
    this.#fs = fs;
    this.#clients = clients;
    this.#config = mesh.config.storage;
    this.#sharedAtStart = mesh.config.storage;
  }

  /** The shared state store is connected once (ModelMesh builds it at construction): a reload cannot move it. */
  readonly #sharedAtStart: StorageConfig;

  async start(): Promise<void> {
    this.#running = true;
    this.#config = this.#mesh.config.storage;
    if (!persists(this.#config)) return;
    const store = this.#makeStore(this.#config.path);
    this.#store = store;
    this.#loading = this.#load(store);
    await this.#loading;
    if (this.#running) this.#arm(); // not when stopped while loading
  }

  async #load(store: LocalFileStore): Promise<void> {
    const { snapshot } = await store.load();
    if (snapshot !== null) this.#restore(snapshot);
    // A file written before client keys has no `clients` part: nothing to restore.
    if (snapshot?.clients !== undefined) {
      // Budgets would silently refill: say so when the file's client usage is not one this version reads.
      const restored = this.#clients?.restore(snapshot.clients) ?? true;
      if (!restored) this.#mesh.logger.warn('state file: client usage in a form this version does not read, not restored (budgets and totals start from zero)', { path: this.#config.path });
    }
    this.#savedVersion = this.#mesh.state.version;
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#disarm();
    await this.#loading;
    await this.idle();
    // Every persisting policy saves at stop: this is the "boundary" of sync-on-boundary and the last word
    // of periodic/immediate (ProxyServer.stop() awaits it through mesh.shutdown()).
    if (this.#store !== null) await this.#saveOnce();
  }

  reload(config: MeshConfig): void {
    const next = config.storage;
    const moved = sharedStoreChanges(this.#sharedAtStart, next);
    // Key names only: storage.url may hold a password.
    if (moved.length > 0) this.#mesh.logger.warn(`${moved.join(', ')} changed: restart the server to use the new shared state store (still on the one it started with)`, { changed: moved });
    // The state file settings (those a reload applies); the shared store's are above.
    const same = next.path === this.#config.path && next.sync_policy === this.#config.sync_policy && next.sync_interval === this.#config.sync_interval;
    if (same) {
      this.#config = next;
      return;
    }
    this.#disarm();
    const pathChanged = next.path !== this.#config.path;
    this.#config = next;
    if (!persists(next)) {
      this.#store = null;
      this.#mesh.logger.info('storage: state is now kept in memory only', { sync_policy: next.sync_policy });
      return;
    }
    // A new path gets the current state at the next save; state is not re-read mid-run.
    if (pathChanged || this.#store === null) {
      this.#store = this.#makeStore(next.path);
      this.#savedVersion = -1;
    }
    this.#mesh.logger.info('storage: settings reloaded', { path: next.path, sync_policy: next.sync_policy });
    if (this.#running) this.#arm();
  }

  idle(): Promise<void> {
    return this.#inFlight ?? Promise.resolve();
  }

  async saveNow(): Promise<void> {
    await this.idle();
    if (this.#store !== null) await this.#saveOnce();
  }

  #makeStore(path: string): LocalFileStore {
    const clock = this.#mesh.clock;
    return new LocalFileStore(path, { logger: this.#mesh.logger, now: () => clock.now(), ...(this.#fs ? { fs: this.#fs } : {}) });
  }

  /**
   * Restores what the config still names. Keeps: the config's model and provider ids (not only the enabled
   * ones: a provider skipped for a missing secret keeps its standby state for when its key comes back).
   * StateStore.restore lays each entry over fresh defaults, so a file written before a field existed loads whole.
   */
  #restore(snapshot: StateSnapshot): void {
    const config = this.#mesh.config;
    const keepModels = new Set(config.models.keys());
    const keepProviders = new Set(config.providers.keys());
    const reset = this.#mesh.state.restore(snapshot, keepModels, keepProviders);
    if (reset > 0) this.#mesh.logger.warn('state file: fields of the wrong type took their defaults', { path: this.#config.path, fields: reset });
    const models = Object.entries(snapshot.models).filter(([id]) => keepModels.has(id));
    const providers = Object.keys(snapshot.providers).filter((id) => keepProviders.has(id));
    const dropped = Object.keys(snapshot.models).length - models.length + Object.keys(snapshot.providers).length - providers.length;
    this.#mesh.logger.info('state loaded', {
      path: this.#config.path, models: models.length, providers: providers.length,
      standby: models.filter(([, m]) => m.status === 'standby').length, dropped,
    });
  }

  #arm(): void {
    const policy = this.#config.sync_policy;
    if (policy === 'periodic' || policy === 'immediate') this.#schedule();
    if (policy === 'immediate') {
      // Every state change is either a transition (its own event) or part of a request (the request
      // event follows it), so checking the version on each event sees every change.
      this.#unsubscribe = this.#mesh.events.on(() => {
        if (this.#mesh.state.version !== this.#savedVersion) this.#deferKick();
      });
    }
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  /** The sync_interval tick: the periodic save, and the immediate policy's backstop. */
  #schedule(): void {
    this.#timer = this.#mesh.clock.setTimeout(() => {
      if (!this.#running) return;
      if (this.#mesh.state.version !== this.#savedVersion) this.#kick();
      this.#schedule();
    }, Math.max(1, this.#config.sync_interval));
  }

  /** Leaves the event listener at once (O(1)); the snapshot is taken on the next turn of the event loop. */
  #deferKick(): void {
    if (this.#deferred) return;
    this.#deferred = true;
    setImmediate(() => {
      this.#deferred = false;
      if (this.#running) this.#kick();
    });
  }

  /** One write in flight, at most one pending behind it. */
  #kick(): void {
    if (this.#store === null) return;
    if (this.#inFlight !== null) {
      this.#pending = true;
      return;
    }
    this.#inFlight = this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      do {
        this.#pending = false;
        await this.#saveOnce();
      } while (this.#pending && this.#store !== null);
    } finally {
      this.#inFlight = null;
    }
  }

  async #saveOnce(): Promise<void> {
    const store = this.#store;
    if (store === null) return;
    const state = this.#mesh.state;
    const version = state.version;
    try {
      const clients = this.#clients?.snapshot();
      await store.save(clients === undefined ? state.snapshot() : { ...state.snapshot(), clients });
      this.#savedVersion = version;
      this.saves++;
    } catch (err) {
      this.failures++;
      const now = this.#mesh.clock.now();
      if (now - this.#lastWarn >= WARN_EVERY_MS || !this.#running) {
        this.#lastWarn = now;
        this.#mesh.logger.warn('state save failed; the previous state file is intact', {
          path: store.path, error: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
}
