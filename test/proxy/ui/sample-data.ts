// Sample inputs of the status page: a pool with one member in standby, a failover decision, a client.
import { ManualClock } from '../../../src/lib/clock.ts';
import { DecisionLog, PoolTimeseries } from '../../../src/observability/timeseries.ts';
import { uiData, type UiData, type UiStatusInput } from '../../../src/observability/ui-data.ts';
import { failoverEvent } from '../../observability/tracing/fixtures.ts';

export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

export const STATUS: UiStatusInput = {
  time: new Date(NOW).toISOString(),
  pools: [
    { name: 'text-generation', strategy: 'modelmesh.stick-until-failure.v1', members: ['openai.gpt-4o', 'anthropic.claude', 'ghost'], available: 1, standby: 2 },
    { name: 'embeddings', strategy: 'modelmesh.round-robin.v1', members: ['openai.embed'], available: 1, standby: 0 },
  ],
  models: [
    { id: 'openai.gpt-4o', provider: 'openai.llm.v1', status: 'standby', reason: '503 overloaded <b>x</b>', until: new Date(NOW + 60_000).toISOString(), available: false, manual: false },
    { id: 'anthropic.claude', provider: 'anthropic.claude.v1', status: 'active', reason: null, until: null, available: true, manual: false },
    { id: 'openai.embed', provider: 'openai.llm.v1', status: 'active', reason: null, until: null, available: true, manual: false },
  ],
  providers: [
    { id: 'openai.llm.v1', connector: 'openai.llm.v1', enabled: true, status: 'active', reason: null, until: null, spend: { daily: 1.234567891, daily_limit: 10, monthly: 40, monthly_limit: null } },
    { id: 'anthropic.claude.v1', connector: 'anthropic.claude.v1', enabled: true, status: 'standby', reason: 'manual', until: null, spend: { daily: 0, daily_limit: null, monthly: 0, monthly_limit: null } },
    { id: 'groq.api.v1', connector: 'groq.api.v1', enabled: false, spend: null },
  ],
};

export function sampleData(): UiData {
  const clock = new ManualClock(NOW - 14 * 60_000);
  const series = new PoolTimeseries({ clock });
  const decisions = new DecisionLog(100);
  for (let minute = 0; minute < 15; minute++) {
    for (let i = 0; i < 5 + ((minute * 7) % 11); i++) {
      const failed = (minute + i) % 9 === 0;
      const e = failoverEvent({ at: clock.now(), latency_ms: 200 + ((i * 37 + minute * 53) % 400), requestId: `req-${minute}-${i}`,
        ...(failed ? { outcome: 'failure' as const, status: 502, error: 'all members failed', model: null, provider: null } : {}),
        ...(i % 3 === 0 ? {} : { attempts: [{ model: 'anthropic.claude', provider: 'anthropic.claude.v1', status: 200, outcome: 'success' as const, reason: null, latency_ms: 180 }] }) });
      series.record(e);
      decisions.record(e, i % 2 === 0 ? 'app1' : null);
    }
    if (minute < 14) clock.advance(60_000);
  }
  return uiData({
    status: STATUS, series: series.all(), bucketMs: series.bucketMs, decisions: decisions.list().slice(0, 20),
    clients: [
      { name: 'app1', limits: { rpm: 60, tpm: 100_000, budget_daily: 5 }, usage: { rpm: 12, tpm: 3_400, budget_daily: 0.42 }, requests: 40, errors: 2, rejected: 1 },
      { name: 'batch-jobs', limits: { rpm: null }, usage: { rpm: 3 } },
    ],
  });
}
