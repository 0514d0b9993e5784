// Bearer-token check for `proxy.auth` (and the admin routes' `proxy.admin.tokens`).
// RFC 6750 §2.1: `Authorization: Bearer <token>`. Tokens are compared as SHA-256 digests with
// crypto.timingSafeEqual, so neither a token's content nor its length leaks through response timing,
// and every configured token is compared (no early exit that would reveal which one is close).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { MeshError } from '../errors.ts';
import { AUTH_HEADERS, MISSING_KEY_MESSAGE, WRONG_KEY_MESSAGE, bearerToken } from '../lib/api-key.ts';

export { MISSING_KEY_MESSAGE, WRONG_KEY_MESSAGE, bearerToken } from '../lib/api-key.ts';

const ADMIN_WRONG_KEY_MESSAGE = 'Incorrect admin token provided. Use one of the tokens in proxy.admin.tokens.';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The key a client presented: `Authorization: Bearer <key>` first, then `x-api-key: <key>` (as Anthropic clients
 * send it; Claude Code sends either). The same tokens and client keys are accepted in both.
 */
export function presentedKey(req: Pick<IncomingMessage, 'headers'>): string | undefined {
  const bearer = bearerToken(req.headers.authorization);
  if (bearer !== undefined) return bearer;
  const key = req.headers['x-api-key'];
  if (typeof key !== 'string') return undefined;
  const trimmed = key.trim();
  return trimmed === '' ? undefined : trimmed;
}

export class BearerAuth {
  readonly #digests: readonly Buffer[];
  readonly #wrongMessage: string;

  /** @param tokens the accepted tokens; digested once here, never kept in clear. */
  constructor(tokens: readonly string[], options: { admin?: boolean } = {}) {
    this.#digests = tokens.map(digest);
    this.#wrongMessage = options.admin === true ? ADMIN_WRONG_KEY_MESSAGE : WRONG_KEY_MESSAGE;
  }

  /** True when `token` is one of the configured tokens. Constant time in the token and its length. */
  accepts(token: string): boolean {
    const presented = digest(token);
    let ok = false;
    for (const expected of this.#digests) ok = timingSafeEqual(presented, expected) || ok;
    return ok;
  }

  /** Throws 401 `invalid_api_key` unless the Authorization header carries an accepted bearer token. */
  verify(authorization: string | undefined): void {
    this.verifyKey(bearerToken(authorization));
  }

  /** Throws 401 `invalid_api_key` unless `token` (e.g. presentedKey's) is an accepted one. */
  verifyKey(token: string | undefined): void {
    if (token === undefined) {
      throw new MeshError('invalid_api_key', MISSING_KEY_MESSAGE, { headers: { ...AUTH_HEADERS } });
    }
    if (!this.accepts(token)) throw new MeshError('invalid_api_key', this.#wrongMessage, { headers: { ...AUTH_HEADERS } });
  }
}

/** The checker for `proxy.auth`, or null when auth is off (then every request passes). */
export function createAuth(auth: { enabled: boolean; tokens: readonly string[] }): BearerAuth | null {
  return auth.enabled ? new BearerAuth(auth.tokens) : null;
}
