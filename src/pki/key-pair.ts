import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCb, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { pkiError } from './errors.js';

/** Key algorithms the gateway issues: RSA (2048+) or ECDSA on a NIST curve. */
export type KeySpec = { type: 'rsa'; bits?: 2048 | 3072 | 4096 } | { type: 'ec'; curve?: 'P-256' | 'P-384' };

export interface KeyPairPem {
  /** PKCS#8 PEM. Never log it. */
  privateKeyPem: string;
  /** SubjectPublicKeyInfo PEM. */
  publicKeyPem: string;
}

/**
 * Generates a key pair with Node's crypto (OpenSSL): node-forge has no elliptic-curve keys, and Node's
 * RSA generation is native, so one path serves both.
 */
export function generateKeyPair(spec: KeySpec = { type: 'ec' }): KeyPairPem {
  const pair =
    spec.type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: spec.bits ?? 2048 })
      : generateKeyPairSync('ec', { namedCurve: spec.curve ?? 'P-256' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const generateAsync = promisify(generateKeyPairCb);

/** The same, off the event loop (libuv's thread pool): an RSA 4096 key takes seconds a server cannot stall for. */
export async function generateKeyPairAsync(spec: KeySpec = { type: 'ec' }): Promise<KeyPairPem> {
  const pair = spec.type === 'rsa'
    ? await generateAsync('rsa', { modulusLength: spec.bits ?? 2048 })
    : await generateAsync('ec', { namedCurve: spec.curve ?? 'P-256' });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function loadPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (cause) {
    throw pkiError('ERR_PKI_KEY_INVALID', 'not a readable private key', { cause });
  }
}

export function publicKeyOf(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (cause) {
    throw pkiError('ERR_PKI_KEY_INVALID', 'not a readable key', { cause });
  }
}
