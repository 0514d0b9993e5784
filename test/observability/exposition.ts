// A strict checker of the Prometheus text exposition format 0.0.4 for tests
// (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format). Throws on the first rule
// broken; returns the parsed families otherwise.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value "${text}" in: ${line}`);
  return Number(text);
}

/** Parses `name{a="x",b="y\"z"} 1.5`; only the escapes \\, \" and \n are legal inside label values. */
function parseSample(line: string): Sample {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
  const name = line.slice(0, i);
  if (!NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
  const labels: Record<string, string> = {};
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq === -1) throw new Error(`bad labels in: ${line}`);
      const key = line.slice(i, eq);
      if (!LABEL.test(key)) throw new Error(`bad label name "${key}" in: ${line}`);
      if (key in labels) throw new Error(`duplicate label "${key}" in: ${line}`);
      if (line[eq + 1] !== '"') throw new Error(`unquoted label value in: ${line}`);
      let j = eq + 2;
      let value = '';
      for (;;) {
        const c = line[j];
        if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
        if (c === '"') break;
        if (c === '\\') {
          const next = line[j + 1];
          if (next === '\\') value += '\\';
          else if (next === '"') value += '"';
          else if (next === 'n') value += '\n';
          else throw new Error(`illegal escape \\${String(next)} in: ${line}`);
          j += 2;
          continue;
        }
        value += c;
        j++;
      }
      labels[key] = value;
      i = j + 1;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`expected , or } in: ${line}`);
    }
    i++;
  }
  if (line[i] !== ' ') throw new Error(`expected a space before the value in: ${line}`);
  const [value, timestamp, ...rest] = line.slice(i + 1).split(' ');
  if (rest.length > 0 || value === undefined) throw new Error(`trailing text in: ${line}`);
  if (timestamp !== undefined && !/^-?\d+$/.test(timestamp)) throw new Error(`bad timestamp in: ${line}`);
  return { name, labels, value: parseValue(value, line) };
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(sample);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const f = families.get(sample.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

export function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const seen = new Set<string>();
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`bad family name in: ${line}`);
      let f = families.get(name);
      if (f === undefined) {
        if (closed.has(name)) throw new Error(`family ${name} appears twice`);
        f = { name, type: 'untyped', help: '', samples: [] };
        families.set(name, f);
      } else if (f.samples.length > 0) throw new Error(`${kind} for ${name} after its samples`);
      if (current !== undefined && current !== f) closed.add(current.name);
      current = f;
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`bad type in: ${line}`);
        f.type = rest;
      } else {
        if (/\\[^\\n]/.test(rest)) throw new Error(`illegal escape in HELP: ${line}`);
        f.help = rest;
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = parseSample(line);
    const f = familyOf(sample.name, families);
    if (f === undefined || f.type === 'untyped') throw new Error(`sample without a TYPE: ${line}`);
    if (f !== current) throw new Error(`samples of ${f.name} are not grouped together: ${line}`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`duplicate series: ${line}`);
    seen.add(key);
    if (f.type === 'counter' && !sample.name.endsWith('_total')) throw new Error(`counter ${sample.name} does not end in _total`);
    if (f.type === 'counter' && !(sample.value >= 0)) throw new Error(`negative counter: ${line}`);
    f.samples.push(sample);
  }
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

/** Buckets per series: `le` ascending, counts cumulative (non-decreasing), `+Inf` present and equal to `_count`, `_sum` present. */
function checkHistogram(f: Family): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    let entry = series.get(key);
    if (entry === undefined) series.set(key, (entry = { buckets: [] }));
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}_bucket without le`);
      entry.buckets.push([parseValue(le, `le="${le}"`), s.value]);
    } else if (s.name === `${f.name}_sum`) entry.sum = s.value;
    else if (s.name === `${f.name}_count`) entry.count = s.value;
  }
  for (const [key, e] of series) {
    if (e.sum === undefined || e.count === undefined) throw new Error(`${f.name}${key}: _sum or _count missing`);
    const last = e.buckets.at(-1);
    if (last === undefined || last[0] !== Infinity) throw new Error(`${f.name}${key}: no le="+Inf" bucket last`);
    if (last[1] !== e.count) throw new Error(`${f.name}${key}: +Inf bucket ${last[1]} != _count ${e.count}`);
    for (let i = 1; i < e.buckets.length; i++) {
      const [prevLe, prevCount] = e.buckets[i - 1] as [number, number];
      const [le, count] = e.buckets[i] as [number, number];
      if (!(le > prevLe)) throw new Error(`${f.name}${key}: le not ascending`);
      if (count < prevCount) throw new Error(`${f.name}${key}: buckets not cumulative`);
    }
  }
}
