// Restoring a saved model or provider state (LocalStateStore.restore): each field of the saved entry over the
// fresh defaults, when it has the default's type.
/**
 * `saved` laid over `fresh`, field by field, keeping only values of the default's type (a finite number, a
 * string, a boolean; an array of numbers or strings; for a default of null, null or any of those or an
 * object): a `"recent": null` or a string spend from a damaged file would fail every request on that model,
 * and be saved back. Fields the defaults do not have are dropped.
 */
export function overDefaults<T extends object>(fresh: T, saved: unknown): { value: T; wrong: number } {
  const out = fresh as Record<string, unknown>;
  const from = typeof saved === 'object' && saved !== null ? (saved as Record<string, unknown>) : {};
  let wrong = 0;
  for (const key of Object.keys(out)) {
    const v = from[key];
    if (v === undefined) continue;
    if (fits(out[key], v)) out[key] = v;
    else wrong++;
  }
  return { value: fresh, wrong };
}

function fits(model: unknown, v: unknown): boolean {
  const scalar = (x: unknown): boolean => (typeof x === 'number' && Number.isFinite(x)) || typeof x === 'string' || typeof x === 'boolean';
  if (model === null) return v === null || scalar(v) || (typeof v === 'object' && !Array.isArray(v));
  if (Array.isArray(model)) return Array.isArray(v) && v.every((x) => (typeof x === 'number' && Number.isFinite(x)) || typeof x === 'string');
  if (typeof model === 'object') return typeof v === 'object' && v !== null && !Array.isArray(v);
  return typeof v === typeof model && (typeof v !== 'number' || Number.isFinite(v));
}

/** Each saved entry still configured (`keep`), over `fresh()`, into `into`; returns the fields reset. */
export function restoreInto<T extends object>(into: Map<string, T>, saved: Readonly<Record<string, unknown>>, keep: ReadonlySet<string>, fresh: () => T): number {
  let reset = 0;
  for (const [id, entry] of Object.entries(saved)) {
    if (!keep.has(id)) continue;
    const { value, wrong } = overDefaults(fresh(), entry);
    into.set(id, value);
    reset += wrong;
  }
  return reset;
}
