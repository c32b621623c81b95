/**
 * DSSE envelopes (secure-systems-lab/dsse, protocol v1): the signature is
 * over PAE(type, body) = "DSSEv1" SP len(type) SP type SP len(body) SP body,
 * lengths as ASCII decimal byte counts. keyid is empty, as cosign writes it.
 */
import type { KeyObject } from 'node:crypto';
import { signBytes, verifyBytes } from './cosign.js';

export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Envelope {
  payloadType: string;
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

export function pae(type: string, body: Buffer): Buffer {
  const t = Buffer.from(type, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${t.length} `), t, Buffer.from(` ${body.length} `), body]);
}

export function signEnvelope(key: KeyObject, payloadType: string, body: Buffer): Envelope {
  return { payloadType, payload: body.toString('base64'), signatures: [{ keyid: '', sig: signBytes(key, pae(payloadType, body)) }] };
}

export function verifyEnvelope(key: KeyObject, env: Envelope): boolean {
  const body = Buffer.from(env.payload, 'base64');
  return env.signatures.some((s) => verifyBytes(key, pae(env.payloadType, body), s.sig));
}
