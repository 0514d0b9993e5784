// A self-signed certificate for 127.0.0.1, made with the openssl CLI: for the TLS tests (rediss://, an OTLP
// collector over https). null when openssl is missing, so those tests can skip.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function selfSignedCertificate(dir: string): { certFile: string; keyFile: string; cert: string } | null {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore', timeout: 20_000 });
  return made.status === 0 ? { certFile, keyFile, cert: readFileSync(certFile, 'utf8') } : null;
}
