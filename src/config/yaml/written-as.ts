// Numbers written otherwise than their value reads back (`000123` is 123, `2.10` is 2.1), kept with the text
// as written on the mapping that holds them, for the settings that take text (header values, metadata:
// config/schema/check.ts stringMap). The parser records them (keepWritten); a copy carries them (copyWritten).

/** A non-enumerable symbol key: invisible to Object.keys, JSON and deep equality. */
export const WRITTEN_AS = Symbol('modelmesh.yaml.writtenAs');

type Written = { [WRITTEN_AS]?: Record<string, string> };

/** Records that `key` of `mapping` was written `text`. */
export function keepWritten(mapping: object, key: string, text: string): void {
  const m = mapping as Written;
  if (m[WRITTEN_AS] === undefined) Object.defineProperty(m, WRITTEN_AS, { value: {}, enumerable: false });
  (m[WRITTEN_AS] as Record<string, string>)[key] = text;
}

/** The text `key` of `mapping` was written as, when it was a number written otherwise. */
export function writtenAs(mapping: object, key: string): string | undefined {
  const written = (mapping as Written)[WRITTEN_AS];
  return written !== undefined && Object.hasOwn(written, key) ? written[key] : undefined;
}

/** Carries what `from` recorded over to `to` (a copy of the same mapping). */
export function copyWritten(from: object, to: object): void {
  const written = (from as Written)[WRITTEN_AS];
  if (written !== undefined) Object.defineProperty(to, WRITTEN_AS, { value: written, enumerable: false });
}
