// Recovery in the background (DESIGN §6), as a MeshService: everything that must happen on time even
// when no request arrives.
// - probe_on_start: one minimal real request to every member at start; a failure puts it in standby,
//   a success brings a standby member (restored from the state file) back.
// - probe_interval: every interval, probe the pool's members in standby for failures (and providers in
//   standby for auth failure or outage); a success reactivates with reason `probe succeeded`, and the
//   provider too when `provider_recovery: on_probe_success`. Quota, budget, maintenance and manual holds
//   are never probed: a probe answering says nothing about a quota.
// - on_quota_reset / quota_reset_schedule: a timer at every UTC midnight rolls quota windows and provider
//   spend (quota_reset events) and ends the holds that were waiting for it.
// - maintenance_window: members go to standby at the window start, until its end.
// - A sweep timer at the earliest `until` ends cooldowns on time (otherwise they end lazily at the next request).
// Timers use mesh.clock (unref'd on the system clock, ManualClock in tests) and stop in stop().
import { toMeshError } from '../errors.ts';
import { CancelToken } from '../lib/cancel.ts';
import { MAX_TIMER_MS, type TimerHandle } from '../lib/clock.ts';
import type { MeshRuntime, MeshService } from './runtime.ts';
import { probeRequest, providerRecoverAt, recoverAt, standbyModel, standbyProvider } from './policy.ts';
import { hasQuota, maintenanceAt, nextBoundary, quotaWindow, rollModelWindow, rollProviderSpend } from './quota.ts';
import { rescueOrphanHolds, waitsForProbe } from './probe-holds.ts';
import type { ModelEntry, PoolEntry } from './types.ts';


export interface ProbeResult {
  ok: boolean;
  status: number;
  reason: string | null;
}

export class RecoveryService implements MeshService {
  readonly name = 'recovery';
  readonly #mesh: MeshRuntime;
  /** Pending timers (each removes itself when it fires, so the set stays small). */
  readonly #timers = new Set<TimerHandle>();
  #sweepTimer: { at: number; handle: TimerHandle } | null = null;
  #unsubscribe: (() => void) | null = null;
  /** Aborts probes in flight at stop(). */
  #controller = new CancelToken();
  readonly #inflight = new Map<string, Promise<ProbeResult>>();
  #running = false;
  #seq = 0;

  constructor(mesh: MeshRuntime) {
    this.#mesh = mesh;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#controller = new CancelToken();
    this.#unsubscribe = this.#mesh.events.on((event) => {
      if ((event.type === 'model_standby' || event.type === 'provider_standby') && event.until !== null) this.#sweepAt(event.until);
    });
    this.#arm();
    // Not awaited: startup (and readiness) must not wait for slow upstreams; settled() awaits them.
    const seen = new Set<string>();
    for (const pool of this.#mesh.registry.pools.values()) {
      if (!pool.config.recovery.probe_on_start) continue;
      for (const model of pool.members) {
        if (seen.has(model.id)) continue;
        seen.add(model.id);
        void this.#probeAtStart(pool, model);
      }
    }
  }

  stop(): void {
    this.#running = false;
    this.#disarm();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#controller.abort(new Error('recovery service stopped'));
  }

  reload(): void {
    if (!this.#running) return;
    this.#disarm();
    this.#arm();
  }

  /** Resolves when every probe started so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.allSettled([...this.#inflight.values()]);
  }

  /** Probe one model now; reactivates it (and its provider) on success. Concurrent calls share one probe. */
  probe(pool: PoolEntry, model: ModelEntry): Promise<ProbeResult> {
    const running = this.#inflight.get(model.id);
    if (running) return running;
    const done = this.#send(model).then((result) => {
      this.#inflight.delete(model.id);
      if (result.ok) this.#recovered(pool, model);
      else this.#mesh.logger.debug('probe failed', { model: model.id, status: result.status, reason: this.#mesh.redact(result.reason ?? '') });
      return result;
    });
    this.#inflight.set(model.id, done);
    return done;
  }

  /** One probe round of a pool (probe_interval): its members and providers waiting for a probe. */
  probePool(pool: PoolEntry): Promise<ProbeResult[]> {
    const state = this.#mesh.state;
    const providers = new Set<string>();
    const probes: Promise<ProbeResult>[] = [];
    for (const model of pool.members) {
      if (probeRequest(model) === null) continue;
      const provider = model.config.provider;
      const p = state.provider(provider);
      if (p.status === 'standby') {
        // A provider hold is ended by a probe of any one of its models.
        if (!providers.has(provider) && waitsForProbe(p) && pool.config.provider_recovery === 'on_probe_success') {
          providers.add(provider);
          probes.push(this.probe(pool, model));
        }
        continue;
      }
      if (waitsForProbe(state.model(model.id))) probes.push(this.probe(pool, model));
    }
    return Promise.all(probes);
  }

  #recovered(pool: PoolEntry, model: ModelEntry): void {
    const state = this.#mesh.state;
    const provider = model.config.provider;
    const p = state.provider(provider);
    if (p.status === 'standby' && waitsForProbe(p) && pool.config.provider_recovery === 'on_probe_success') {
      state.releaseProvider(provider, 'probe succeeded');
    }
    if (waitsForProbe(state.model(model.id))) state.releaseModel(model.id, provider, 'probe succeeded');
  }

  async #probeAtStart(pool: PoolEntry, model: ModelEntry): Promise<void> {
    const result = await this.probe(pool, model);
    if (result.ok || !this.#running) return;
    const state = this.#mesh.state;
    const now = state.clock.now();
    const reason = `probe at start failed (${result.reason ?? 'failed'})`;
    if ((result.status === 401 || result.status === 403) && pool.config.provider_deactivation.includes('on_auth_failure')) {
      standbyProvider(state, model.config.provider, reason, providerRecoverAt(pool.config, model, now), 'auth');
    } else {
      standbyModel(state, model, pool.name, reason, recoverAt(pool.config, model, now), 'failure');
    }
  }

  /** The probe request itself: 2xx is success, and so is 400/422 (the API is up and took the key; only the probe's body was refused). */
  async #send(model: ModelEntry): Promise<ProbeResult> {
    const request = probeRequest(model);
    if (request === null) return { ok: false, status: 0, reason: 'no probe request for this model' };
    try {
      const response = await model.provider.call({
        endpoint: request.endpoint, model: model.config, body: { ...request.body }, form: null, mode: 'buffer',
        signal: this.#controller, requestId: `probe_${++this.#seq}`,
      });
      if (response.kind !== 'buffer') response.close();
      return { ok: true, status: response.status, reason: null };
    } catch (thrown) {
      const err = toMeshError(thrown);
      const status = err.upstream?.status ?? err.status;
      return { ok: status === 400 || status === 422, status, reason: err.upstream?.reason ?? err.message };
    }
  }

  #arm(): void {
    const state = this.#mesh.state;
    const topology = new Map<string, string[]>();
    for (const model of this.#mesh.registry.models.values()) {
      const list = topology.get(model.config.provider);
      if (list) list.push(model.id);
      else topology.set(model.config.provider, [model.id]);
    }
    state.setTopology(topology);
    for (const pool of this.#mesh.registry.pools.values()) {
      const interval = pool.config.recovery.probe_interval;
      if (interval !== null && pool.members.length > 0) this.#every(interval, () => void this.probePool(pool));
      const maintenance = pool.config.deactivation.maintenance_window;
      if (maintenance !== null && pool.members.length > 0) this.#maintain(pool, maintenance);
    }
    this.#atMidnight();
    rescueOrphanHolds(this.#mesh);
    this.#sweep();
  }


  #disarm(): void {
    for (const timer of this.#timers) timer.cancel();
    this.#timers.clear();
    this.#sweepTimer?.handle.cancel();
    this.#sweepTimer = null;
  }

  #after(ms: number, fn: () => void): void {
    const handle = this.#mesh.clock.setTimeout(() => {
      this.#timers.delete(handle);
      if (this.#running) fn();
    }, ms);
    this.#timers.add(handle);
  }

  #every(ms: number, fn: () => void): void {
    const tick = (): void => {
      this.#after(ms, tick);
      fn();
    };
    this.#after(ms, tick);
  }

  /** Run `fn` at epoch `at` (chained for waits longer than one timer can hold). */
  #at(at: number, fn: () => void): void {
    const wait = at - this.#mesh.clock.now();
    if (wait > MAX_TIMER_MS) this.#after(MAX_TIMER_MS, () => this.#at(at, fn));
    else this.#after(wait, fn);
  }

  /** Every UTC midnight: roll quota windows and provider spend, end holds that were waiting for it. */
  #atMidnight(): void {
    this.#at(nextBoundary(this.#mesh.clock.now(), 'daily'), () => {
      this.resetQuotas();
      this.#atMidnight();
    });
  }

  /** Roll every window that has ended (quota_reset events) and end expired holds. Public for the admin API. */
  resetQuotas(): void {
    const state = this.#mesh.state;
    for (const pool of this.#mesh.registry.pools.values()) {
      if (!hasQuota(pool.config)) continue;
      for (const model of pool.members) rollModelWindow(state, model.id, quotaWindow(pool.config));
    }
    for (const provider of this.#mesh.registry.providers.keys()) rollProviderSpend(state, provider);
    this.#sweep();
  }

  #maintain(pool: PoolEntry, window: string): void {
    const now = this.#mesh.clock.now();
    const span = maintenanceAt(window, now);
    if (span.inside) {
      for (const model of pool.members) {
        standbyModel(this.#mesh.state, model, pool.name, `maintenance window ${window} UTC`, span.end, 'maintenance');
      }
    }
    this.#at(span.nextStart, () => this.#maintain(pool, window));
  }

  /** End every hold whose `until` has passed (the lazy check of isModelActive, run now), then re-arm. */
  #sweep(): void {
    const state = this.#mesh.state;
    this.#sweepTimer = null;
    let next: number | null = null;
    for (const model of this.#mesh.registry.models.values()) state.isModelActive(model.id, model.config.provider);
    for (const id of state.modelIds()) next = earliest(next, state.model(id));
    for (const id of state.providerIds()) next = earliest(next, state.provider(id));
    if (next !== null) this.#sweepAt(next);
  }

  #sweepAt(at: number): void {
    if (!this.#running) return;
    if (this.#sweepTimer !== null && this.#sweepTimer.at <= at) return;
    this.#sweepTimer?.handle.cancel();
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, at - this.#mesh.clock.now()));
    this.#sweepTimer = { at, handle: this.#mesh.clock.setTimeout(() => this.#sweep(), wait) };
  }
}

function earliest(next: number | null, s: { status: string; until: number | null }): number | null {
  if (s.status !== 'standby' || s.until === null) return next;
  return next === null || s.until < next ? s.until : next;
}

/** The recovery MeshService of a mesh: built by the composition root (mesh.ts). */
export function createRecoveryService(mesh: MeshRuntime): RecoveryService {
  return new RecoveryService(mesh);
}
