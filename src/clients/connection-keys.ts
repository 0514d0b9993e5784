// Keys already proven on a connection (issue 12 §7: client keys cheap). An SDK sends the same key on every
// request of a keep-alive connection; once its digest has found a client there, a later request on that
// connection presenting the same key (compared in constant time) is that client without hashing it again.
//
// What this holds: the last key a connection proved, for as long as the connection (its socket object)
// lives: a WeakMap entry, gone with the socket. The registry (registry.ts) still never holds a key. A memo
// counts only for the registry it was proven against: a reload builds a new registry, so a key revoked by
// SIGHUP is looked up afresh, and refused, on its next request. Connections shared by several callers (a
// reverse proxy's pool) are safe: a different key misses, and the comparison takes the same time wherever
// the two keys differ, so it tells nothing about the key proven before.
import type { Client, ClientRegistry } from './registry.ts';

interface Proven {
  key: string;
  client: Client;
  registry: ClientRegistry;
}

export class ConnectionKeys {
  readonly #proven = new WeakMap<object, Proven>();

  /** registry.lookup(key), remembered for `connection` when it finds a client. */
  lookup(connection: object, key: string, registry: ClientRegistry): Client | undefined {
    const proven = this.#proven.get(connection);
    if (proven !== undefined && proven.registry === registry && sameKey(proven.key, key)) return proven.client;
    const client = registry.lookup(key);
    if (client !== undefined) this.#proven.set(connection, { key, client, registry });
    return client;
  }
}

/** Equal strings, in time that depends on the length only (keys are of a known, public format). */
function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
