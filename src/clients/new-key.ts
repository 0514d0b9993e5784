// `modelmesh --new-key NAME` (issue 12 §1): a fresh random client key and the config lines that accept it.
// The key is printed once and kept nowhere: the config holds its digest only.
import { randomBytes } from 'node:crypto';
import { CLIENT_NAME, CLIENT_NAME_RULE, keyDigest } from '../config/schema/clients.ts';

/** `mm-` and 32 random bytes in base64url (256 bits; no characters that need quoting in YAML or a header). */
export function newClientKey(): string {
  return `mm-${randomBytes(32).toString('base64url')}`;
}

/** The text --new-key prints: the key on the first line (for scripts), then the lines for mesh.yaml. */
export function newKeyText(name: string, key: string = newClientKey()): string {
  if (!CLIENT_NAME.test(name)) throw new Error(`--new-key: ${CLIENT_NAME_RULE}, got "${name}"`);
  return [
    key,
    '',
    `# The key above is for the application "${name}": hand it over now, it is not stored anywhere.`,
    '# Add these lines to mesh.yaml (merge under an existing clients: section), then reload (SIGHUP):',
    'clients:',
    `  ${name}:`,
    `    key_sha256: ${keyDigest(key)}`,
    '',
  ].join('\n');
}
