// SRTP (RFC 3711) with the AES_CM_128_HMAC_SHA1_80 suite, enough for a test to act as an SDES endpoint: keys from
// an `inline:` value, RTP packets protected and unprotected, the rollover counter always 0 (short runs).
import { createCipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface SrtpKeys {
  encKey: Buffer;
  authKey: Buffer;
  salt: Buffer;
}

/** A fresh master key and salt as an SDES `inline:` value (30 bytes, base64). */
export function newInline(): string {
  return randomBytes(30).toString('base64');
}

/** The `inline:` key of the first `a=crypto` line with `suite`, or undefined. */
export function inlineOf(sdp: string, suite = 'AES_CM_128_HMAC_SHA1_80'): string | undefined {
  return new RegExp(`^a=crypto:\\d+ ${suite} inline:([^\\s|]+)`, 'm').exec(sdp)?.[1];
}

// RFC 3711 §4.3.1: AES-CM as the key derivation function, key_id = label || index DIV kdr (0 here).
function derive(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, 14);
  iv[7]! ^= label;
  const c = createCipheriv('aes-128-ctr', masterKey, iv);
  return c.update(Buffer.alloc(length));
}

/** The session keys of an `inline:` value (RFC 3711 §4.3.2: labels 0, 1 and 2). */
export function sessionKeys(inline: string): SrtpKeys {
  const raw = Buffer.from(inline, 'base64');
  if (raw.length < 30) throw new Error(`an AES_CM_128 inline key has 30 bytes, this one ${raw.length}`);
  const key = raw.subarray(0, 16);
  const salt = raw.subarray(16, 30);
  return { encKey: derive(key, salt, 0, 16), authKey: derive(key, salt, 1, 20), salt: derive(key, salt, 2, 14) };
}

// RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = ROC * 2^16 + SEQ.
function packetIv(k: SrtpKeys, ssrc: number, seq: number): Buffer {
  const iv = Buffer.alloc(16);
  k.salt.copy(iv, 0);
  const s = Buffer.alloc(4);
  s.writeUInt32BE(ssrc >>> 0);
  for (let b = 0; b < 4; b++) iv[4 + b]! ^= s[b]!;
  iv[12]! ^= (seq >> 8) & 0xff;
  iv[13]! ^= seq & 0xff;
  return iv;
}

const TAG = 10;
const ROC0 = Buffer.alloc(4);

function tagOf(k: SrtpKeys, authenticated: Buffer): Buffer {
  return createHmac('sha1', k.authKey).update(authenticated).update(ROC0).digest().subarray(0, TAG);
}

/** A plain RTP packet (version 2, no CSRC, no extension). */
export function rtpPacket(seq: number, ssrc: number, payload: Buffer, pt = 0): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = pt & 0x7f;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE((seq * 160) >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

/** RTP → SRTP: the payload encrypted, the 80-bit authentication tag appended. */
export function protect(k: SrtpKeys, rtp: Buffer): Buffer {
  const seq = rtp.readUInt16BE(2);
  const ssrc = rtp.readUInt32BE(8);
  const c = createCipheriv('aes-128-ctr', k.encKey, packetIv(k, ssrc, seq));
  const body = Buffer.concat([rtp.subarray(0, 12), c.update(rtp.subarray(12))]);
  return Buffer.concat([body, tagOf(k, body)]);
}

/** SRTP → RTP, or undefined when the tag does not verify under these keys. */
export function unprotect(k: SrtpKeys, srtp: Buffer): Buffer | undefined {
  if (srtp.length < 12 + TAG) return undefined;
  const body = srtp.subarray(0, srtp.length - TAG);
  const tag = srtp.subarray(srtp.length - TAG);
  if (!timingSafeEqual(tag, tagOf(k, body))) return undefined;
  const seq = body.readUInt16BE(2);
  const ssrc = body.readUInt32BE(8);
  const c = createCipheriv('aes-128-ctr', k.encKey, packetIv(k, ssrc, seq));
  return Buffer.concat([body.subarray(0, 12), c.update(body.subarray(12))]);
}
