// The fixture of the endpoint failover tests: two scripted upstreams behind OpenAI-compatible providers `a`
// (key-a) and `b` (key-b), and an in-process proxy routing to them, with every mesh event collected.
import type { MeshEvent, RequestEvent } from '../../src/mesh/events.ts';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.ts';
import { requestEvents, startProxy, type StartedProxy } from './proxy.ts';

export interface Pair {
  a: FakeUpstream;
  b: FakeUpstream;
  proxy: StartedProxy;
  /** Every mesh event, in order. */
  events: MeshEvent[];
  /** The `request` events only (one routing decision per request). */
  requests: RequestEvent[];
}

/**
 * Starts both upstreams and the proxy with `config` (models, pools, and any other mesh.yaml section; the
 * providers are `a` and `b`). `aUrl` points provider `a` elsewhere (a closed port, say). Everything is
 * closed after the test.
 */
export async function startPair(t: { after: (fn: () => Promise<void>) => void }, config: Record<string, unknown>, aUrl?: string): Promise<Pair> {
  const a = await startFakeUpstream();
  const b = await startFakeUpstream();
  const proxy = await startProxy({
    ...config,
    providers: {
      a: { connector: 'openai.llm.v1', base_url: aUrl ?? a.url, api_key: 'key-a' },
      b: { connector: 'openai.llm.v1', base_url: b.url, api_key: 'key-b' },
    },
  });
  const events: MeshEvent[] = [];
  proxy.mesh.events.on((e) => void events.push(e));
  const requests = requestEvents(proxy.mesh);
  t.after(async () => {
    await proxy.close();
    await a.close();
    await b.close();
  });
  return { a, b, proxy, events, requests };
}
