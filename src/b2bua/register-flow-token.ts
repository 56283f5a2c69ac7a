import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SipTransport } from './policy-types.js';

/**
 * The flow a phone registered over: the transport and the phone's address as the engine saw them. Over TCP and TLS
 * the engine sends a request to that address over the connection the phone opened (it reuses an inbound
 * connection by its remote address), which is the RFC 5626 flow.
 */
export interface RegisterFlow {
  transport: SipTransport;
  address: string;
  port: number;
  /** The tenant the phone's REGISTER came from. */
  tenant: string;
  /** Epoch seconds after which the token is refused (the binding's longest life). */
  until: number;
}

const MAC_BYTES = 16;
const TOKEN = /^([A-Za-z0-9_-]{8,200})\.([A-Za-z0-9_-]{22})$/;
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;
const NAME = /^[A-Za-z0-9._~+-]{1,64}$/;

/** The key tokens are signed with: derived from the engine's control secret, so every app of one engine shares it. */
export function flowKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('trunkgate register-relay flow token v1').digest();
}

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest().subarray(0, MAC_BYTES);
}

/**
 * A flow token (RFC 5626 §5.2: the edge proxy must be able to tell from it which flow it names and that nobody
 * changed it): the flow itself in base64url and a truncated HMAC-SHA256 of that text, so the token is a valid SIP
 * URI user part and the network cannot forge one.
 */
export function signFlowToken(key: Buffer, f: RegisterFlow): string {
  const payload = Buffer.from(`${f.transport}|${f.address}|${f.port}|${f.tenant}|${f.until}`).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

export type FlowTokenCheck = { ok: true; flow: RegisterFlow } | { ok: false; why: 'malformed' | 'forged' | 'expired' };

/** The flow a token names, when its signature holds and it has not run out at `nowSeconds`. */
export function verifyFlowToken(key: Buffer, token: string, nowSeconds: number): FlowTokenCheck {
  const m = TOKEN.exec(token);
  if (!m) return { ok: false, why: 'malformed' };
  const got = Buffer.from(m[2]!, 'base64url');
  // One spelling per token: the last character's spare bits must be zero, so no two tokens name one signature.
  if (got.toString('base64url') !== m[2]) return { ok: false, why: 'malformed' };
  const want = mac(key, m[1]!);
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { ok: false, why: 'forged' };
  const parts = Buffer.from(m[1]!, 'base64url').toString('utf8').split('|');
  if (parts.length !== 5) return { ok: false, why: 'malformed' };
  const [transport, address, portText, tenant, untilText] = parts as [string, string, string, string, string];
  const port = Number(portText);
  const until = Number(untilText);
  if ((transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') || !ADDRESS.test(address) || !NAME.test(tenant)
    || !Number.isInteger(port) || port < 1 || port > 65_535 || !Number.isInteger(until)) return { ok: false, why: 'malformed' };
  if (until < nowSeconds) return { ok: false, why: 'expired' };
  return { ok: true, flow: { transport, address, port, tenant, until } };
}
