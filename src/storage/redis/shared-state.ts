// State shared by every instance through Redis/Valkey (issue 13), as a layer around the local store: the
// request path only ever reads local state; this service carries changes between instances.
// - Standby and recovery of models and providers: every transition this instance makes is published on
//   `<prefix>state` and written as a key `<prefix>hold:<kind>:<id>` that expires when the hold ends (no
//   expiry for a hold waiting for a probe, quota reset or operator). Other instances apply what they receive
//   (within a message round trip). A release (probe success, admin activate, cooldown) deletes the key, so a
//   probe success anywhere reactivates everywhere. At start and after every reconnection the hold keys are
//   read back: Redis wins, except for transitions this instance made while Redis was unreachable, which are
//   written and published then (their messages were lost; the instances that stayed connected have no
//   resync of their own to find them). Redis restarted without persistence (or flushed) is told apart from
//   "released elsewhere" by an epoch key, created when missing: a new epoch means the hold keys are gone,
//   so each instance writes its holds back (as counters are added back) instead of dropping them.
// - Quota, budget and client counters: RedisWindowCounters (shared-counters.ts), built here and handed to
//   the mesh as its `counters`.
// - Session pins (modelmesh.session-stickiness.v1): SharedSessionPins (session-pins.ts), built here and
//   handed to the mesh as its `sessionPins`; pin changes travel on `<prefix>session`.
// - Round-robin cursors, latency averages and error-rate windows stay per instance.
// Redis down never stops traffic: one warning per outage, `up` false (the modelmesh_shared_state_up gauge),
// and with on_unavailable: closed, `refusing` true (limited traffic is refused with 429 by the router).
import { randomUUID } from 'node:crypto';
import type { RedisStorageConfig } from '../../config/types.ts';
import type { Clock } from '../../lib/clock.ts';
import type { MeshEvent } from '../../mesh/events.ts';
import type { MeshRuntime, MeshService, SharedStateStatus } from '../../mesh/runtime.ts';
import type { StandbyCause } from '../../mesh/state.ts';
import { RedisClient } from './client.ts';
import { SharedSessionPins } from './session-pins.ts';
import { RedisWindowCounters } from './shared-counters.ts';
import { RedisSubscriber } from './subscriber.ts';
import { describeRedisUrl, parseRedisUrl } from './url.ts';

type Kind = 'model' | 'provider';

/** What is stored under a hold key and published with a transition. */
interface HoldRecord {
  reason: string;
  until: number | null;
  cause: StandbyCause;
  manual: boolean;
}

interface Message {
  origin: string;
  kind: Kind;
  id: string;
  provider: string;
  /** null: released (with `reason`). */
  hold: HoldRecord | null;
  reason: string;
}

export class SharedState implements MeshService, SharedStateStatus {
  readonly name = 'shared-state';
  readonly counters: RedisWindowCounters;
  readonly sessionPins: SharedSessionPins;
  readonly client: RedisClient;
  readonly #subscriber: RedisSubscriber;
  readonly #config: RedisStorageConfig;
  readonly #origin = randomUUID();
  readonly #channel: string;
  #mesh: MeshRuntime | null = null;
  #unsubscribe: (() => void) | null = null;
  /** Set while applying what another instance published: those transitions are not published again. */
  #applying = false;
  #started = false;
  #outage = false;
  /** Transitions made while Redis was unreachable: written back at reconnection. */
  readonly #changedWhileDown = new Set<string>();
  readonly #off: (() => void)[] = [];

  constructor(config: RedisStorageConfig, clock: Clock) {
    this.#config = config;
    this.#channel = `${config.key_prefix}state`;
    const url = parseRedisUrl(config.url);
    const common = { url, connectTimeoutMs: config.connect_timeout, clientName: 'modelmesh' };
    this.client = new RedisClient({ ...common, commandTimeoutMs: config.command_timeout });
    this.#subscriber = new RedisSubscriber({ ...common, onMessage: (channel, text) => this.#onMessage(channel, text) });
    this.counters = new RedisWindowCounters({
      client: this.client, keyPrefix: `${config.key_prefix}counter:`, flushIntervalMs: config.flush_interval, clock,
      onFlushError: (error) => this.#mesh?.logger.debug('shared counters flush failed', { error: error.message }),
    });
    this.sessionPins = new SharedSessionPins({
      client: this.client, keyPrefix: `${config.key_prefix}session:`, channel: `${config.key_prefix}session`, origin: this.#origin, clock,
    });
  }

  /** The URL without its password, for logs and errors. */
  get description(): string {
    return describeRedisUrl(this.client.target);
  }

  get up(): boolean {
    return this.client.up;
  }

  get refusing(): boolean {
    return this.#config.on_unavailable === 'closed' && this.#started && !this.client.up;
  }

  /** Attach to the mesh whose state is shared (the composition root calls it once). */
  attach(mesh: MeshRuntime): void {
    this.#mesh = mesh;
  }

  /**
   * Connects both connections (rejects with a clear REDIS_AUTH / REDIS_CONNECTION error: a wrong password
   * or unreachable Redis stops the start), subscribes, adopts the holds in Redis and starts publishing.
   */
  async start(): Promise<void> {
    const mesh = this.#need();
    await this.client.connect();
    await this.#subscriber.connect();
    await this.#subscriber.subscribe(this.#channel);
    await this.#subscriber.subscribe(this.sessionPins.channel);
    this.#started = true;
    await this.#resync();
    this.#unsubscribe = mesh.events.on((event) => this.#onEvent(event));
    this.#off.push(this.client.on('down', (error) => this.#down(error)));
    this.#off.push(this.client.on('up', () => void this.#back()));
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    for (const off of this.#off.splice(0)) off();
    await this.counters.close();
    await Promise.all([this.client.close(), this.#subscriber.close()]);
  }

  #need(): MeshRuntime {
    if (this.#mesh === null) throw new Error('shared state used before attach()');
    return this.#mesh;
  }

  #key(kind: Kind, id: string): string {
    return `${this.#config.key_prefix}hold:${kind}:${id}`;
  }

  #down(error: Error): void {
    if (this.#outage) return;
    this.#outage = true;
    const mode = this.#config.on_unavailable === 'open' ? 'serving on local counts' : 'refusing traffic under shared limits (on_unavailable: closed)';
    this.#mesh?.logger.warn(`shared state unavailable (${this.description}): ${mode} until it is back`, { error: this.#mesh.redact(error.message) });
  }

  async #back(): Promise<void> {
    if (!this.#outage) return;
    this.#outage = false;
    this.#mesh?.logger.info(`shared state reachable again (${this.description})`);
    await this.#resync().catch((error: unknown) => this.#mesh?.logger.debug('shared state resync failed', { error: String(error) }));
    await this.sessionPins.resync();
  }

  /** A local transition: publish it and write (or delete) its key. */
  #onEvent(event: MeshEvent): void {
    if (this.#applying) return;
    const state = this.#need().state;
    let kind: Kind;
    let id: string;
    let provider: string;
    if (event.type === 'model_standby' || event.type === 'model_active') [kind, id, provider] = ['model', event.model, event.provider];
    else if (event.type === 'provider_standby' || event.type === 'provider_active') [kind, id, provider] = ['provider', event.provider, event.provider];
    else return;
    const s = kind === 'model' ? state.model(id) : state.provider(id);
    const hold: HoldRecord | null = s.status === 'standby' ? { reason: s.reason ?? '', until: s.until, cause: s.cause ?? 'failure', manual: s.manual } : null;
    if (!this.client.up) this.#changedWhileDown.add(`${kind}:${id}`);
    void this.#write(kind, id, hold);
    this.#publish(kind, id, provider, hold, 'reason' in event ? event.reason : '');
  }

  #publish(kind: Kind, id: string, provider: string, hold: HoldRecord | null, reason: string): void {
    const message: Message = { origin: this.#origin, kind, id, provider, hold, reason };
    this.client.send(['PUBLISH', this.#channel, JSON.stringify(message)]).catch(() => {});
  }

  async #write(kind: Kind, id: string, hold: HoldRecord | null): Promise<void> {
    const key = this.#key(kind, id);
    try {
      if (hold === null) await this.client.send(['DEL', key]);
      else if (hold.until === null) await this.client.send(['SET', key, JSON.stringify(hold)]);
      else if (hold.until > this.#need().clock.now()) await this.client.send(['SET', key, JSON.stringify(hold), 'PXAT', Math.ceil(hold.until)]);
    } catch {
      // Redis down: the transition is written back at reconnection (#changedWhileDown).
    }
  }

  #onMessage(channel: string, text: string): void {
    if (channel === this.sessionPins.channel) this.sessionPins.onMessage(text);
    if (channel !== this.#channel) return;
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (message.origin === this.#origin) return;
    this.#apply(message.kind, message.id, message.provider, message.hold, message.reason);
  }

  /** Apply another instance's transition through the store's own operations (events fire locally, unpublished). */
  #apply(kind: Kind, id: string, provider: string, hold: HoldRecord | null, reason: string): void {
    const mesh = this.#need();
    if (kind === 'model' ? !mesh.registry.models.has(id) : !mesh.registry.providers.has(id)) return;
    const state = mesh.state;
    this.#applying = true;
    try {
      if (hold === null) {
        if (kind === 'model') state.releaseModel(id, provider, reason);
        else state.releaseProvider(id, reason);
      } else {
        const full = { ...hold, pool: null };
        if (kind === 'model') state.holdModel(id, provider, full);
        else state.holdProvider(id, full);
      }
    } finally {
      this.#applying = false;
    }
  }

  /** Read every hold key of the configured models and providers: adopt Redis, except what changed here while down. */
  async #resync(): Promise<void> {
    const mesh = this.#need();
    const targets: { kind: Kind; id: string; provider: string }[] = [
      ...[...mesh.registry.models.values()].map((m) => ({ kind: 'model' as const, id: m.id, provider: m.config.provider })),
      ...[...mesh.registry.providers.keys()].map((id) => ({ kind: 'provider' as const, id, provider: id })),
    ];
    if (targets.length === 0) return;
    const epochKey = `${this.#config.key_prefix}state-epoch`;
    await this.client.send(['SET', epochKey, randomUUID(), 'NX']);
    const [epoch, reply] = await Promise.all([this.client.send(['GET', epochKey]), this.client.send(['MGET', ...targets.map((t) => this.#key(t.kind, t.id))])]);
    // A new epoch: Redis lost every key since the last resync; what is held here is shared, not dropped.
    const lost = this.#epoch !== null && epoch !== this.#epoch;
    this.#epoch = typeof epoch === 'string' ? epoch : null;
    const changed = new Set(this.#changedWhileDown);
    this.#changedWhileDown.clear();
    for (const [i, target] of targets.entries()) {
      const local = target.kind === 'model' ? mesh.state.model(target.id) : mesh.state.provider(target.id);
      const localHold: HoldRecord | null = local.status === 'standby' ? { reason: local.reason ?? '', until: local.until, cause: local.cause ?? 'failure', manual: local.manual } : null;
      if (changed.has(`${target.kind}:${target.id}`)) {
        await this.#write(target.kind, target.id, localHold);
        this.#publish(target.kind, target.id, target.provider, localHold, localHold === null ? 'released on another instance' : '');
        continue;
      }
      const value = Array.isArray(reply) ? reply[i] : null;
      const remote = typeof value === 'string' ? readHold(value) : null;
      if (remote !== null) {
        if (localHold === null || localHold.until !== remote.until || localHold.reason !== remote.reason) this.#apply(target.kind, target.id, target.provider, remote, '');
      } else if (localHold !== null) {
        // Not in Redis: released elsewhere (or expired) while this instance was away; or never shared (a
        // state file restored at start): share it rather than drop it.
        if (!this.#restored && !lost) this.#apply(target.kind, target.id, target.provider, null, 'released on another instance');
        else await this.#write(target.kind, target.id, localHold);
      }
    }
    this.#restored = false;
  }

  /** True until the first resync after start: local holds then come from the state file and are shared, not dropped. */
  #restored = true;
  /** The `<prefix>state-epoch` value read at the last resync (null before the first). */
  #epoch: string | null = null;
}

function readHold(text: string): HoldRecord | null {
  try {
    const value = JSON.parse(text) as Partial<HoldRecord>;
    if (typeof value.reason !== 'string' || typeof value.cause !== 'string') return null;
    return { reason: value.reason, until: typeof value.until === 'number' ? value.until : null, cause: value.cause, manual: value.manual === true };
  } catch {
    return null;
  }
}

/**
 * `--check` with storage on Redis: connect, authenticate, select and PING within connect_timeout, then close.
 * Rejects with a message naming the redacted URL (never the password).
 */
export async function checkSharedState(config: RedisStorageConfig): Promise<void> {
  const client = new RedisClient({ url: config.url, connectTimeoutMs: config.connect_timeout, commandTimeoutMs: config.command_timeout, reconnectMinDelayMs: 60_000 });
  try {
    await client.connect();
    await client.send(['PING']);
  } catch (error) {
    throw new Error(`storage.url: shared state store ${client.description} unusable: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.close();
  }
}
