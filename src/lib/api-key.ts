// Reading the API key a caller presents, shared by proxy.auth (src/proxy/auth.ts) and client keys
// (src/clients/authenticate.ts) so both parse it, and answer its absence, the same way.

/** RFC 6750 §3: a 401 names the scheme. Also: a client must not replay a request the proxy refused. */
export const AUTH_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'www-authenticate': 'Bearer realm="modelmesh"',
  'x-should-retry': 'false',
});

// The wording follows the real API (openai-wire §1), so SDK users recognise it; it never echoes the token.
export const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth " +
  '(i.e. Authorization: Bearer YOUR_KEY).';
export const WRONG_KEY_MESSAGE =
  'Incorrect API key provided. Use one of the tokens configured for this proxy (proxy.auth.tokens).';

/** The token in `Bearer <token>` (scheme case-insensitive, RFC 9110 §11.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 7) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = header.slice(7).trim();
  return token === '' ? undefined : token;
}
