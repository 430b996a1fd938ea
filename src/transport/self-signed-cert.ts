// A self-signed certificate for the demo site and for tests: generated once,
// kept beside the config, the private key readable by the service user only.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';

export interface CertFiles {
  cert: string;
  key: string;
}

/** Creates DIR/tls-cert.pem and DIR/tls-key.pem (0600) unless both exist; `names` are IPs or DNS names for subjectAltName. */
export async function ensureSelfSignedCert(dir: string, names: string[], file = 'tls'): Promise<CertFiles> {
  const cert = join(dir, `${file}-cert.pem`);
  const key = join(dir, `${file}-key.pem`);
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  const pems = await generateSelfSigned(names);
  writeFileSync(key, pems.key, { mode: 0o600 });
  chmodSync(key, 0o600); // the mode above only applies when the file is new
  writeFileSync(cert, pems.cert, { mode: 0o644 });
  return { cert, key };
}

export async function generateSelfSigned(names: string[]): Promise<{ cert: string; key: string }> {
  const cn = names[0] ?? 'localhost';
  const now = new Date();
  // loaded when a certificate is made (the demo's first start, tests): a running server never needs it
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 825 * 86_400_000), // the CA/B limit browsers and phones accept
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
