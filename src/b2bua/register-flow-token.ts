import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SipTransport } from './policy-types.js';

/**
 * The flow a phone registered over: the transport and the phone's address as the engine saw them, and over TCP and
 * TLS the connection the REGISTER came on, which is the RFC 5626 flow: a request to the phone goes over that
 * connection only (X-Trunkgate-Route `conn=`, docs/control-protocol.md §4.2), never over another one from the same
 * address and port.
 */
export interface RegisterFlow {
  transport: SipTransport;
  address: string;
  port: number;
  /**
   * TCP and TLS: the engine's name of the phone's connection (X-Trunkgate-Peer `conn=`); never on UDP. A TCP or TLS
   * token without one (signed before tokens named the connection) names no flow that can be reached.
   */
  conn?: string;
  /** The tenant the phone's REGISTER came from. */
  tenant: string;
  /** Epoch seconds after which the token is refused (the binding's longest life). */
  until: number;
}

const MAC_BYTES = 16;
/** At most 233 + 1 + 22 characters: the engine hands on a Route user part of up to 256 (`flow=`). */
const TOKEN = /^([A-Za-z0-9_-]{8,233})\.([A-Za-z0-9_-]{22})$/;
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;
const NAME = /^[A-Za-z0-9._~+-]{1,64}$/;
/** What the engine writes as X-Trunkgate-Peer `conn=`: opaque to the b2bua, and bounded so the token stays a URI user part. */
const CONN = /^[A-Za-z0-9._~-]{1,40}$/;
const CONN_PARAM = /(?:^|;)\s*conn=([^;]*?)\s*(?:;|$)/;

const FLOW_PARAM = /(?:^|;)\s*flow=([A-Za-z0-9_.-]{1,256})\s*(?:;|$)/;

/** The flow token X-Trunkgate-Peer hands on (`flow=`, the user part of a Route naming the engine), if any. */
export function flowTokenOf(peerValue: string | undefined): string | undefined {
  return peerValue === undefined ? undefined : FLOW_PARAM.exec(peerValue)?.[1];
}

/** `udp`, `tcp` or `tls` of drachtio's protocol field, whatever its case. */
export function transportOf(p: string | undefined): SipTransport | undefined {
  const t = p?.toLowerCase();
  return t === 'udp' || t === 'tcp' || t === 'tls' ? t : undefined;
}

/** The connection X-Trunkgate-Peer names (`conn=`, TCP and TLS only); undefined when it names none we could sign. */
export function connOf(peerValue: string | undefined): string | undefined {
  const v = peerValue === undefined ? undefined : CONN_PARAM.exec(peerValue)?.[1];
  return v !== undefined && CONN.test(v) ? v : undefined;
}

/** `tcp 192.0.2.1:5060`, `[v6]` bracketed: a flow as the Reason and the log say it (never the engine's connection name). */
export function flowText(f: RegisterFlow): string {
  return `${f.transport} ${f.address.includes(':') ? `[${f.address}]` : f.address}:${f.port}`;
}

/**
 * The X-Trunkgate-Route a request to `flow` carries for the engine (docs/control-protocol.md §4.2), given the one it
 * would carry anyway (`tenant=…;profile=…`, or none): over TCP and TLS `conn=` of the phone's connection, so the
 * engine sends over it or not at all (430 when it closed), never over another connection from the phone's address.
 */
export function flowRoute(flow: RegisterFlow, route?: string): string | undefined {
  if (flow.conn === undefined) return route;
  return route === undefined || route === '' ? `conn=${flow.conn}` : `${route};conn=${flow.conn}`;
}

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
  const conn = f.conn !== undefined && f.transport !== 'udp' ? `|${f.conn}` : '';
  const payload = Buffer.from(`${f.transport}|${f.address}|${f.port}|${f.tenant}|${f.until}${conn}`).toString('base64url');
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
  if (parts.length !== 5 && parts.length !== 6) return { ok: false, why: 'malformed' };
  const [transport, address, portText, tenant, untilText, conn] = parts as [string, string, string, string, string, string | undefined];
  const port = Number(portText);
  const until = Number(untilText);
  if ((transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') || !ADDRESS.test(address) || !NAME.test(tenant)
    || !Number.isInteger(port) || port < 1 || port > 65_535 || !Number.isInteger(until)) return { ok: false, why: 'malformed' };
  // A UDP flow is an address, never a connection.
  if (conn !== undefined && (transport === 'udp' || !CONN.test(conn))) return { ok: false, why: 'malformed' };
  if (until < nowSeconds) return { ok: false, why: 'expired' };
  return { ok: true, flow: { transport, address, port, ...(conn !== undefined ? { conn } : {}), tenant, until } };
}
