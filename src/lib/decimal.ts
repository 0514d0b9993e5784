// Integers as decimal text, for header values that change from one request to the next (x-ratelimit-remaining-*,
// content-length). String(n) and `${n}` go through V8's number-to-string cache, a table in the old generation:
// each new number's string stays referenced from it, survives the young generation's scavenges and is promoted,
// to be freed only by a full GC. A counter that moves on every request (the remaining requests of a client)
// promoted about 12 kB per scavenge that way at 12k requests/s, and with it more frequent full GCs: most of the
// client-key path's GC cost (issue 12 §7). Number#toFixed builds its string without the cache (some 60 ns more
// than a cache miss, against about 0.7 us of GC a request). For a safe integer it is the text String gives;
// past 2^53 toFixed writes the exact value where String writes the shortest round-trip form, so those (and
// anything not an integer) go through String.

/** `n` as String(n) writes it, without V8's number-to-string cache for safe integers. */
export function decimal(n: number): string {
  return Number.isSafeInteger(n) ? n.toFixed(0) : String(n);
}
