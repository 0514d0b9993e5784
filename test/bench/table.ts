// Plain-text table rendering and number formatting for the bench report.

/** A row that spans the table: the target name, then a free-text message. */
export interface MessageRow {
  target: string;
  message: string;
}

export type TableRow = string[] | MessageRow;

/** Render rows under headers; first and last (free-text) columns left-aligned, numbers right-aligned. */
export function renderTable(headers: string[], rows: TableRow[]): string {
  const cellRows = rows.filter((r): r is string[] => Array.isArray(r));
  const first = Math.max(headers[0]?.length ?? 0, ...rows.map((r) => (Array.isArray(r) ? (r[0] ?? '') : r.target).length));
  const widths = headers.map((h, i) => (i === 0 ? first : Math.max(h.length, ...cellRows.map((r) => (r[i] ?? '').length))));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        return i === 0 || i === headers.length - 1 ? c.padEnd(w) : c.padStart(w);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const lines = rows.map((r) => (Array.isArray(r) ? fmt(r) : `${r.target.padEnd(first)}  ${r.message}`));
  return [fmt(headers), rule, ...lines].join('\n');
}

export function num(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);
}

export function int(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toString();
}

export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return Number.NaN;
  return a / b;
}

export function times(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : '-';
}

export function signedMs(d: number): string {
  if (!Number.isFinite(d)) return '-';
  return `${d >= 0 ? '+' : ''}${d.toFixed(2)} ms`;
}

export function counts(map: Record<string, number>): string {
  return Object.entries(map)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} x${v}`)
    .join(', ');
}
