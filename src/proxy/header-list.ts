// Response headers for writeHead on the hot path (issue 16).

/**
 * The answer's headers as writeHead's flat list (name, value, …): `base`, then `routed`, then `own` pairs. A
 * merged object (`{ ...base, ...routed }`) defines every property of the second spread through V8's slow path,
 * the hottest line of the buffered relay in the profile (issue 16). A name in more than one of them (not the
 * case for the headers the proxy sets) falls back to that merge, so the later one still wins.
 */
export function headerList(base: Readonly<Record<string, string>>, routed: Readonly<Record<string, string>>, own: readonly string[]): string[] | Record<string, string> {
  const list: string[] = [];
  for (const name in base) list.push(name, base[name] as string);
  for (const name in routed) {
    if (Object.hasOwn(base, name)) return merged(base, routed, own);
    list.push(name, routed[name] as string);
  }
  for (let i = 0; i < own.length; i += 2) {
    const name = own[i] as string;
    if (Object.hasOwn(base, name) || Object.hasOwn(routed, name)) return merged(base, routed, own);
    list.push(name, own[i + 1] as string);
  }
  return list;
}

function merged(base: Readonly<Record<string, string>>, routed: Readonly<Record<string, string>>, own: readonly string[]): Record<string, string> {
  const out: Record<string, string> = { ...base, ...routed };
  for (let i = 0; i < own.length; i += 2) out[own[i] as string] = own[i + 1] as string;
  return out;
}
