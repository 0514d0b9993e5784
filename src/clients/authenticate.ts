// Who is calling (issue 12): a configured client, found by its key, or an anonymous caller admitted by a
// `proxy.auth.tokens` token (unlimited, as before client keys) or by auth being off altogether.
import { MeshError } from '../errors.ts';
import { AUTH_HEADERS, MISSING_KEY_MESSAGE, WRONG_KEY_MESSAGE } from '../lib/api-key.ts';
import type { ConnectionKeys } from './connection-keys.ts';
import type { Client, ClientRegistry } from './registry.ts';

// Never echoes the key (OpenAI's own message quotes a masked key; a masked key still narrows a guess).
export const UNKNOWN_CLIENT_KEY_MESSAGE =
  'Incorrect API key provided. Use the key of a client configured for this proxy (clients:), or a token in proxy.auth.tokens.';

/** What accepts an anonymous token: src/proxy/auth.ts BearerAuth for `proxy.auth`. */
export interface TokenCheck {
  accepts(token: string): boolean;
}

/**
 * The client calling, or null for an anonymous caller. Throws 401 `invalid_api_key`.
 *
 * - No clients and `tokens` null (auth off): everyone is anonymous, whatever they send.
 * - Clients configured: a key is required, even with `proxy.auth` off, so no application escapes its limits
 *   by sending no key. A key of a client → that client; else a `proxy.auth.tokens` token → anonymous.
 */
export function authenticate(
  /** The presented key (src/proxy/auth.ts presentedKey), undefined when none. */
  token: string | undefined,
  clients: ClientRegistry,
  tokens: TokenCheck | null,
  /** Keys proven per connection, and this request's connection (its socket): a repeated key is not hashed again. */
  keys?: ConnectionKeys,
  connection?: object,
): Client | null {
  if (clients.size === 0 && tokens === null) return null;
  if (token === undefined) throw new MeshError('invalid_api_key', MISSING_KEY_MESSAGE, { headers: { ...AUTH_HEADERS } });
  const client = clients.size === 0 ? undefined
    : keys === undefined || connection === undefined ? clients.lookup(token) : keys.lookup(connection, token, clients);
  if (client !== undefined) return client;
  if (tokens?.accepts(token) === true) return null;
  const message = clients.size === 0 ? WRONG_KEY_MESSAGE : UNKNOWN_CLIENT_KEY_MESSAGE;
  throw new MeshError('invalid_api_key', message, { headers: { ...AUTH_HEADERS } });
}
