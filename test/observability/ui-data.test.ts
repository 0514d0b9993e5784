import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientStatus } from '../../src/clients/status.ts';
import type { MeshStatus } from '../../src/mesh/admin.ts';
import { uiClients, uiData, type UiClientStatusInput, type UiStatusInput } from '../../src/observability/ui-data.ts';
import { NOW, sampleData, STATUS } from '../proxy/ui/sample-data.ts';

// Compile-time: the admin view fits the page's input as it is (the endpoint passes meshStatus(mesh)).
const fits = (s: MeshStatus): UiStatusInput => s;
void fits;
// And GET /mesh/clients' entries fit the client rows' input (clientUsageForUi passes them as they are).
const clientFits = (s: ClientStatus): UiClientStatusInput => s;
void clientFits;

describe('uiData', () => {
  it('joins pools with their members state and reason', () => {
    const data = sampleData();
    assert.equal(data.object, 'mesh.ui');
    assert.equal(data.time, new Date(NOW).toISOString());
    const [pool] = data.pools;
    assert.equal(pool?.name, 'text-generation');
    assert.deepEqual(pool?.members[0], {
      id: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 'standby', available: false, manual: false,
      reason: '503 overloaded <b>x</b>', until: new Date(NOW + 60_000).toISOString(),
    });
    assert.equal(pool?.members[1]?.available, true);
    assert.deepEqual(pool?.members[2], { id: 'ghost', provider: '', status: 'standby', available: false, manual: false, reason: 'not loaded', until: null });
  });

  it('gives providers their state and budgets, disabled ones without', () => {
    const data = sampleData();
    assert.deepEqual(data.providers.map((p) => [p.id, p.status]), [
      ['openai.llm.v1', 'active'], ['anthropic.claude.v1', 'standby'], ['groq.api.v1', 'disabled'],
    ]);
    assert.deepEqual(data.providers[0]?.budget, { daily_limit: 10, spend_daily: 1.234568, monthly_limit: null, spend_monthly: 40 });
    assert.equal(data.providers[1]?.reason, 'manual');
    assert.equal(data.providers[2]?.budget, null);
  });

  it('carries series, decisions and clients through', () => {
    const data = sampleData();
    const s = data.series['text-generation'];
    assert.equal(s?.bucket_ms, 60_000);
    assert.equal(s?.buckets.length, 15);
    assert.ok((s?.buckets.at(-1)?.requests ?? 0) > 0);
    assert.equal(data.decisions.length, 20);
    assert.ok(data.decisions.some((d) => d.failovers > 0));
    assert.deepEqual(data.clients[0], {
      name: 'app1', limits: { rpm: 60, tpm: 100_000, budget_daily: 5 }, usage: { rpm: 12, tpm: 3_400, budget_daily: 0.42 }, requests: 40, errors: 2, rejected: 1,
    });
    assert.deepEqual(data.clients[1], { name: 'batch-jobs', limits: { rpm: null }, usage: { rpm: 3 }, requests: 0, errors: 0, rejected: 0 });
  });

  it('works with nothing but a status', () => {
    const data = uiData({ status: { ...STATUS, pools: [] }, series: {}, bucketMs: 60_000, decisions: [] });
    assert.deepEqual([data.pools, data.clients, data.decisions, data.series], [[], [], [], {}]);
  });

  it('turns client statuses into rows: minute, in-flight and budget usage against their limits, and totals', () => {
    const status: UiClientStatusInput = {
      name: 'app1',
      limits: { rpm: 60, tpm: null, max_concurrent: 3, budget: { daily: 5, monthly: null } },
      usage: { minute: { requests: 7, tokens: 1234 }, day: { spend: 0.123456789 }, month: { spend: 2.5 }, concurrent: 2 },
    };
    const [row] = uiClients([status], (name) => (name === 'app1' ? { requests: 90, failed: 4, refused: 6 } : undefined));
    assert.deepEqual(row, {
      name: 'app1',
      limits: { rpm: 60, tpm: null, concurrent: 3, budget_daily: 5, budget_monthly: null },
      usage: { rpm: 7, tpm: 1234, concurrent: 2, budget_daily: 0.123457, budget_monthly: 2.5 },
      requests: 90, errors: 4, rejected: 6,
    });
    assert.deepEqual(uiClients([{ ...status, name: 'other' }]).map((c) => [c.requests, c.errors, c.rejected]), [[0, 0, 0]], 'no statistics yet: zeros');
  });
});
