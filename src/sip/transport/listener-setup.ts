import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import type { ConnectionGate } from './connection-gate.js';
import type { ConnectionTable } from './connection-table.js';
import { GatewayError } from '../../common/gateway-error.js';
import type { FailedListener, ListenerRetry, ListenerSpec, TransportLayerOptions } from './layer-types.js';
import type { OutboundLimit } from './outbound-limit.js';
import type { StreamConnection } from './stream-connection.js';
import type { StreamTransport, StreamTransportOptions, StreamTransportUser } from './stream-transport.js';
import { TcpTransport } from './tcp-transport.js';
import { TlsTransport, defaultTlsClientOptions } from './tls-transport.js';
import type { ListenerInfo } from './types.js';
import { UdpTransport, type UdpTransportUser } from './udp-transport.js';

/** What the transport layer (transport-layer.ts) lends each listener it builds. */
export interface ListenerParts {
  options: TransportLayerOptions;
  log: Logger;
  clock: Clock;
  udpUser: UdpTransportUser;
  streamUser: StreamTransportUser;
  gate: ConnectionGate;
  /** One bound on outbound connections for every stream listener. */
  outbound: OutboundLimit;
  table: ConnectionTable<StreamConnection>;
  maxMessageBytes: number;
  /** Counts and logs an error of a bound listening socket. */
  listenerError: (spec: ListenerSpec, e: NodeJS.ErrnoException) => void;
}

export function udpListener(spec: ListenerSpec, p: ListenerParts): UdpTransport {
  return new UdpTransport({
    id: spec.id, host: spec.host, port: spec.port, user: p.udpUser, log: p.log, listenerError: (e) => p.listenerError(spec, e),
    ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
    ...(spec.tlsProfile !== undefined ? { tlsProfile: spec.tlsProfile } : {}),
    ...(p.options.udpBufferBytes !== undefined ? { bufferBytes: p.options.udpBufferBytes } : {}),
  });
}

/** A TCP or TLS listener: its accepted sockets pass the connection gate, its connections enter the table. */
export function streamListener(spec: ListenerSpec, p: ListenerParts): StreamTransport {
  const o = p.options;
  const tls = spec.protocol === 'tls';
  const so: StreamTransportOptions = {
    id: spec.id, host: spec.host, port: spec.port, user: p.streamUser, clock: p.clock, log: p.log,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 3_600_000,
    unusedTimeoutMs: o.unusedTimeoutMs ?? 60_000,
    keepAliveMs: o.keepAliveMs ?? 30_000,
    ...(o.messageTimeoutMs !== undefined ? { messageTimeoutMs: o.messageTimeoutMs } : {}),
    ...(o.maxSendBufferBytes !== undefined ? { maxSendBufferBytes: o.maxSendBufferBytes } : {}),
    admit: (socket) => p.gate.admit(socket, tls),
    handshakeDone: (socket) => p.gate.handshakeDone(socket),
    outbound: p.outbound,
    listenerError: (e) => p.listenerError(spec, e),
    framer: { maxMessageBytes: p.maxMessageBytes, maxHeaderBytes: o.limits?.maxHeaderBytes ?? 32_768 },
    nextId: () => p.table.nextId(tls ? 'tls' : 'tcp'),
    ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}),
    ...(spec.tlsProfile !== undefined ? { tlsProfile: spec.tlsProfile } : {}),
  };
  if (!tls) return new TcpTransport(so);
  return new TlsTransport({
    ...so,
    tls: spec.tls!,
    clientOptions: o.tlsClientOptions ?? defaultTlsClientOptions,
    ...(spec.checkInbound ? { checkInbound: spec.checkInbound } : {}),
  });
}

/**
 * Binds one listener. A tenant's own listener that cannot bind is logged as CUBE's LISTEN_SOCKET, code
 * ERR_SIP_TRANSPORT_BIND (tenant, address, port, transport and the OS error), added to `failed` and left out
 * (undefined), so the other trunks keep serving; any other listener's failure stops the start (throws).
 */
export async function bindListener(spec: ListenerSpec, t: { listen(): Promise<ListenerInfo>; close(): Promise<void> }, log: Logger,
  failed: FailedListener[]): Promise<ListenerInfo | undefined> {
  try {
    return await t.listen();
  } catch (e) {
    if (!spec.optional) throw e;
    await t.close().catch(() => undefined);
    const os = (e as { cause?: { message?: string } }).cause?.message ?? (e instanceof Error ? e.message : String(e));
    const f: FailedListener = { id: spec.id, protocol: spec.protocol, host: spec.host, port: spec.port, error: os, ...(spec.tenant !== undefined ? { tenant: spec.tenant } : {}) };
    failed.push(f);
    log.error({ code: 'ERR_SIP_TRANSPORT_BIND', listener: spec.id, tenant: spec.tenant ?? '-', address: spec.host, port: spec.port, transport: spec.protocol, err: os },
      `%SIP-3-LISTEN_SOCKET: tenant ${spec.tenant ?? '-'} cannot listen on ${spec.protocol} ${spec.host}:${spec.port} (${os}); the other listeners run without it`);
    return undefined;
  }
}

/** Refuses listener specs the layer cannot build: a duplicate id, a TLS listener without TLS options. */
export function checkListenerSpecs(listeners: readonly ListenerSpec[]): void {
  const ids = new Set<string>();
  for (const l of listeners) {
    if (ids.has(l.id)) throw new GatewayError('ERR_SIP_TRANSPORT_BIND', `duplicate listener id '${l.id}'`);
    ids.add(l.id);
    if (l.protocol === 'tls' && !l.tls) throw new GatewayError('ERR_SIP_TRANSPORT_TLS_CONFIG', `tls listener '${l.id}' has no tls options`);
  }
}

/**
 * Tries once more each listener in `failed`, one at a time, with the spec it had at start (`open` builds and binds
 * it as start did, and adds it to `failed` again with the new OS error when it still cannot bind, logged LISTEN_SOCKET).
 * One that binds leaves `failed` and is logged once at info.
 */
export async function retryFailed(specs: readonly ListenerSpec[], failed: FailedListener[], log: Logger,
  open: (spec: ListenerSpec) => Promise<ListenerInfo | undefined>): Promise<ListenerRetry> {
  const tried = failed.splice(0, failed.length);
  const bound: ListenerInfo[] = [];
  for (const f of tried) {
    const spec = specs.find((s) => s.id === f.id);
    if (!spec) continue;
    let info: ListenerInfo | undefined;
    try {
      info = await open(spec);
    } catch (e) {
      // Only a tenant's own listener is ever in `failed`; should building it throw, it stays there.
      failed.push({ ...f, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    if (!info) continue;
    bound.push(info);
    log.info({ code: 'EVT_LISTENER_UP', listener: info.id, tenant: spec.tenant ?? '-', transport: info.protocol, address: info.address, port: info.port,
      ...(spec.tlsProfile !== undefined ? { tlsProfile: spec.tlsProfile } : {}) },
      `listener ${info.id} bound on retry: tenant ${spec.tenant ?? '-'} listens on ${info.protocol} ${info.address}:${info.port}`);
  }
  return { bound, stillFailed: failed.map((f) => ({ ...f })) };
}
