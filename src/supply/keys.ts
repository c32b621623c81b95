/**
 * Signing keys: ECDSA P-256 only (what cosign makes and what its
 * simple-signing verification expects). Accepted private key files:
 * - `PRIVATE KEY` (unencrypted PKCS#8, as `openssl genpkey`/`openssl pkcs8` write it),
 * - `EC PRIVATE KEY` (SEC 1, as `openssl ecparam -genkey` writes it),
 * - `ENCRYPTED PRIVATE KEY` (PKCS#8 encrypted by openssl),
 * - `ENCRYPTED SIGSTORE PRIVATE KEY` / `ENCRYPTED COSIGN PRIVATE KEY`:
 *   cosign's format, JSON `{kdf:{name:"scrypt",params:{N,r,p},salt},
 *   cipher:{name:"nacl/secretbox",nonce},ciphertext}` (base64 byte fields)
 *   whose plaintext is the PKCS#8 DER of the key; the secretbox key is
 *   scrypt(password, salt, N, r=8, p=1, 32 bytes). N is 32768 (older cosign)
 *   or 65536 (newer); other parameters are refused, as cosign refuses them.
 * Public keys: `PUBLIC KEY` (PKIX), as cosign writes `cosign.pub`.
 *
 * The password comes from the environment passed in (COSIGN_PASSWORD, as
 * cosign reads it), never from an argument, and is never printed.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, scryptSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { ioError, OciasmError } from '../errors.js';

export const PASSWORD_ENV = 'COSIGN_PASSWORD';
const SIGSTORE_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY';
const COSIGN_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY';
const SCRYPT_NS = new Set([32768, 65536]);
const NEW_KEY_N = 65536;

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  file: string;
}

function pemBlocks(text: string): { label: string; der: Buffer }[] {
  const out: { label: string; der: Buffer }[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ label: m[1]!, der: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') });
  return out;
}

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function checkP256(key: KeyObject, file: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const what = key.asymmetricKeyType === 'ec' ? `EC ${key.asymmetricKeyDetails?.namedCurve}` : key.asymmetricKeyType;
    throw new OciasmError('KEY_INVALID', `${file}: a ${what} key; only ECDSA P-256 keys are supported`);
  }
}

function scryptKey(password: string, salt: Buffer, n: number, r: number, p: number): Buffer {
  return scryptSync(Buffer.from(password, 'utf8'), salt, 32, { N: n, r, p, maxmem: 256 * n * r + (1 << 20) });
}

/** Decrypts cosign's encrypted key JSON to PKCS#8 DER. */
export function decryptCosignKey(json: Buffer, password: string, file: string): Buffer {
  let data: { kdf?: { name?: string; params?: { N?: number; r?: number; p?: number }; salt?: string }; cipher?: { name?: string; nonce?: string }; ciphertext?: string };
  try {
    data = JSON.parse(json.toString('utf8'));
  } catch (e) {
    throw new OciasmError('KEY_INVALID', `${file}: the encrypted key is not JSON: ${(e as Error).message}`);
  }
  const { kdf, cipher } = data;
  if (kdf?.name !== 'scrypt') throw new OciasmError('KEY_INVALID', `${file}: unknown key derivation "${kdf?.name}" (cosign uses scrypt)`);
  if (cipher?.name !== 'nacl/secretbox') throw new OciasmError('KEY_INVALID', `${file}: unknown cipher "${cipher?.name}" (cosign uses nacl/secretbox)`);
  const { N, r, p } = kdf.params ?? {};
  if (!SCRYPT_NS.has(N ?? 0) || r !== 8 || p !== 1) {
    throw new OciasmError('KEY_INVALID', `${file}: unexpected scrypt parameters N=${N} r=${r} p=${p} (cosign uses N=32768 or 65536, r=8, p=1)`);
  }
  const salt = Buffer.from(kdf.salt ?? '', 'base64');
  const nonce = Buffer.from(cipher.nonce ?? '', 'base64');
  if (nonce.length !== nacl.secretbox.nonceLength) throw new OciasmError('KEY_INVALID', `${file}: the secretbox nonce is ${nonce.length} bytes, not 24`);
  const key = scryptKey(password, salt, N!, r, p);
  const plain = nacl.secretbox.open(Buffer.from(data.ciphertext ?? '', 'base64'), nonce, key);
  if (!plain) throw new OciasmError('KEY_PASSWORD', `${file}: wrong password (from ${PASSWORD_ENV}) or a damaged key`);
  return Buffer.from(plain);
}

export function encryptCosignKey(pkcs8: Buffer, password: string): Buffer {
  const salt = randomBytes(32);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const key = scryptKey(password, salt, NEW_KEY_N, 8, 1);
  const ciphertext = Buffer.from(nacl.secretbox(pkcs8, nonce, key));
  return Buffer.from(JSON.stringify({
    kdf: { name: 'scrypt', params: { N: NEW_KEY_N, r: 8, p: 1 }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: ciphertext.toString('base64'),
  }));
}

function password(env: NodeJS.ProcessEnv, file: string): string {
  const pw = env[PASSWORD_ENV];
  if (pw === undefined) throw new OciasmError('KEY_PASSWORD', `${file} is encrypted: set its password in ${PASSWORD_ENV}`);
  return pw;
}

async function readKeyFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw ioError('cannot read the key', file, e);
  }
}

export async function loadSigningKey(file: string, env: NodeJS.ProcessEnv): Promise<SigningKey> {
  const text = await readKeyFile(file);
  const block = pemBlocks(text).find((b) => /PRIVATE KEY$/.test(b.label));
  if (!block) throw new OciasmError('KEY_INVALID', `${file}: no PEM private key block (BEGIN PRIVATE KEY, EC PRIVATE KEY or ${SIGSTORE_LABEL})`);
  let privateKey: KeyObject;
  try {
    if (block.label === SIGSTORE_LABEL || block.label === COSIGN_LABEL) {
      const der = decryptCosignKey(block.der, password(env, file), file);
      privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } else if (block.label === 'ENCRYPTED PRIVATE KEY') {
      privateKey = createPrivateKey({ key: pem(block.label, block.der), format: 'pem', passphrase: password(env, file) });
    } else if (block.label === 'PRIVATE KEY' || block.label === 'EC PRIVATE KEY') {
      privateKey = createPrivateKey({ key: pem(block.label, block.der), format: 'pem' });
    } else {
      throw new OciasmError('KEY_INVALID', `${file}: unsupported PEM block "${block.label}"`);
    }
  } catch (e) {
    if (e instanceof OciasmError) throw e;
    const bad = /bad decrypt|decrypt/i.test((e as Error).message);
    throw new OciasmError(bad ? 'KEY_PASSWORD' : 'KEY_INVALID', `${file}: ${bad ? `wrong password (from ${PASSWORD_ENV})` : `not a readable key: ${(e as Error).message}`}`, { cause: e });
  }
  checkP256(privateKey, file);
  return { privateKey, publicKey: createPublicKey(privateKey), file };
}

/** A public key file, or the public half of a private key file. */
export async function loadVerifyKey(file: string, env: NodeJS.ProcessEnv): Promise<KeyObject> {
  const text = await readKeyFile(file);
  const block = pemBlocks(text).find((b) => b.label === 'PUBLIC KEY');
  if (!block) return (await loadSigningKey(file, env)).publicKey;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: block.der, format: 'der', type: 'spki' });
  } catch (e) {
    throw new OciasmError('KEY_INVALID', `${file}: not a readable public key: ${(e as Error).message}`, { cause: e });
  }
  checkP256(key, file);
  return key;
}

/** A new P-256 pair in cosign's files: the encrypted private key and the PKIX public key, as PEM text. */
export function generateKeyPair(pw: string): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    privatePem: pem(SIGSTORE_LABEL, encryptCosignKey(pkcs8, pw)),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

export function keygenPassword(env: NodeJS.ProcessEnv): string {
  const pw = env[PASSWORD_ENV];
  if (pw === undefined) throw new OciasmError('KEY_PASSWORD', `set the new key's password in ${PASSWORD_ENV} (it may be empty, as with cosign)`);
  return pw;
}
