// Keys already proven on a connection (issue 12 §7: client keys cheap). An SDK sends the same key on every
// request of a keep-alive connection; once its digest has found a client there, a later request on that
// connection presenting the same key (compared in constant time) is that client without hashing it again.
//
// What this holds: the last key a connection proved (and the Authorization line it came in), for as long as
// the connection (its socket object) lives: a WeakMap entry, gone with the socket. The registry (registry.ts) still never holds a key. A memo
// counts only for the registry it was proven against: a reload builds a new registry, so a key revoked by
// SIGHUP is looked up afresh, and refused, on its next request. Connections shared by several callers (a
// reverse proxy's pool) are safe: a different key misses, and the comparison takes the same time wherever
// the two keys differ, so it tells nothing about the key proven before.
import type { Client, ClientRegistry } from './registry.ts';

interface Proven {
  key: string;
  client: Client;
  registry: ClientRegistry;
  /** The whole Authorization header value that carried `key`, once the caller said so (carriedBy). */
  header: string | undefined;
}

export class ConnectionKeys {
  readonly #proven = new WeakMap<object, Proven>();

  /** registry.lookup(key), remembered for `connection` when it finds a client. */
  lookup(connection: object, key: string, registry: ClientRegistry): Client | undefined {
    const proven = this.#proven.get(connection);
    if (proven !== undefined && proven.registry === registry && sameKey(proven.key, key)) return proven.client;
    const client = registry.lookup(key);
    if (client !== undefined) this.#proven.set(connection, { key, client, registry, header: undefined });
    return client;
  }

  /**
   * The client whose key `header` (an Authorization value) carried on this connection before, against the
   * same registry; undefined otherwise, then the caller parses the header and calls lookup(). Compared whole
   * and in constant time like the key: an SDK sends the very same line on every request of a connection, so
   * a repeat costs no parsing at all.
   */
  byHeader(connection: object, header: string, registry: ClientRegistry): Client | undefined {
    const proven = this.#proven.get(connection);
    if (proven === undefined || proven.header === undefined || proven.registry !== registry) return undefined;
    return sameKey(proven.header, header) ? proven.client : undefined;
  }

  /** The key lookup() last proved for `connection` came in this Authorization header value. */
  carriedBy(connection: object, header: string): void {
    const proven = this.#proven.get(connection);
    if (proven !== undefined) proven.header = header;
  }
}

/** Equal strings, in time that depends on the length only (keys, and the headers around them, are of a known format). */
function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
