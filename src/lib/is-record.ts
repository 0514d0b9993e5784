// The one check every JSON reader here starts with: a plain object (not null, not an array).

/** `value` is a JSON object (a record of fields), not null and not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
