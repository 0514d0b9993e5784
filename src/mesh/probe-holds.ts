// Which standby holds wait for a probe (recovery.ts), and what happens to such a hold when no pool probes
// its model any more.
import type { MeshRuntime } from './runtime.ts';
import { probeRequest } from './policy.ts';
import type { StandbyCause } from './state.ts';

/** Causes a probe may end (failures, auth, outages); quota, budget, maintenance and manual holds are never probed. */
const PROBED_CAUSES: ReadonlySet<StandbyCause> = new Set(['failure', 'auth', 'outage']);

export function waitsForProbe(s: { status: string; manual: boolean; cause: StandbyCause | null }): boolean {
  return s.status === 'standby' && !s.manual && PROBED_CAUSES.has(s.cause ?? 'failure');
}

/**
 * Holds waiting for a probe that no pool runs any more (a reload removed probe_interval, or the pool): they
 * would never end, so they fall back to the home pool's cooldown. Manual holds (and providers whose pools
 * say provider_recovery: on_manual) are left alone.
 */
export function rescueOrphanHolds(mesh: MeshRuntime): void {
  const { state, registry, clock } = mesh;
  const probed = new Set<string>();
  const manualProviders = new Set<string>();
  for (const pool of registry.pools.values()) {
    for (const m of pool.members) {
      if (pool.config.recovery.probe_interval !== null && probeRequest(m) !== null) probed.add(m.id);
      if (pool.config.provider_recovery === 'on_manual') manualProviders.add(m.config.provider);
    }
  }
  const now = clock.now();
  const providersProbed = new Set<string>();
  for (const model of registry.models.values()) {
    if (probed.has(model.id)) providersProbed.add(model.config.provider);
    const s = state.model(model.id);
    if (s.until === null && waitsForProbe(s) && !probed.has(model.id)) {
      state.endHoldAt('model', model.id, now + registry.homePool(model).config.recovery.cooldown);
    }
  }
  for (const [id, provider] of registry.providers) {
    const p = state.provider(id);
    if (p.until === null && waitsForProbe(p) && !providersProbed.has(id) && !manualProviders.has(id)) {
      const model = [...registry.models.values()].find((m) => m.provider === provider);
      state.endHoldAt('provider', id, now + (model ? registry.homePool(model).config.recovery.cooldown : 60_000));
    }
  }
}
