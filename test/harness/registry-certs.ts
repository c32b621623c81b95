/** Test certificates made with openssl: a CA and a 127.0.0.1 server cert, and a JWT signing cert. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { must } from './util.js';

export interface ServerCerts {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export async function makeServerCerts(dir: string): Promise<ServerCerts> {
  const f = (n: string) => path.join(dir, n);
  await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'),
    '-days', '2', '-subj', '/CN=ociasm test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await must('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await must('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('server.pem'), '-days', '2', '-extfile', f('ext.cnf')]);
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}

export interface SigningCert {
  certFile: string;
  keyPem: string;
  /** The certificate as base64 DER, for the JWT header's x5c. */
  certDerBase64: string;
}

export async function makeSigningCert(dir: string): Promise<SigningCert> {
  const key = path.join(dir, 'jwt.key');
  const cert = path.join(dir, 'jwt.pem');
  await must('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=ociasm test token issuer']);
  const pem = readFileSync(cert, 'utf8');
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return { certFile: cert, keyPem: readFileSync(key, 'utf8'), certDerBase64: b64 };
}
