// Top frames of a V8 .cpuprofile by self time, with the inclusive time of the same function.

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

const where = (n: ProfileNode): string => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, '');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}${url ? `:${n.callFrame.lineNumber + 1}` : ''}`;
};

export function topFrames(p: CpuProfile, top = 30): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const n of p.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    self.set(where(n), (self.get(where(n)) ?? 0) + hits);
    // Inclusive: count each function once per sample stack.
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const k = where(byId.get(id) as ProfileNode);
      if (!seen.has(k)) incl.set(k, (incl.get(k) ?? 0) + hits);
      seen.add(k);
    }
  }
  const pct = (v: number): string => `${((v / total) * 100).toFixed(1).padStart(5)}%`;
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = rows.map(([k, v]) => `${pct(v)} self ${pct(incl.get(k) ?? v)} incl  ${k}`);
  const inclRows = [...incl.entries()].filter(([k]) => k.includes('dist/')).sort((a, b) => b[1] - a[1]).slice(0, top);
  return [`${total} samples`, '-- by self time', ...lines, '-- ModelMesh functions by inclusive time', ...inclRows.map(([k, v]) => `${pct(v)} incl  ${k}`)].join('\n');
}
