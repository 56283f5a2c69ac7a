import type { Logger } from 'pino';
import { GatewayError } from '../common/index.js';
import type { ListenerInfo, ListenerSpec, TransportLayerOptions } from '../sip/transport/index.js';
import { udpKernelQueue } from '../sip/transport/udp-queue.js';
import type { EngineListenerOptions, TransportLimits } from './engine-options.js';
import type { EngineTls } from './engine-tls.js';

/**
 * The transport's listener specs from the engine's listener options: an id for each (given, or transport-host-port),
 * and a TLS listener on a profile gets its server options and post-handshake check from the engine's TLS profiles.
 */
export function listenerSpecs(listen: readonly EngineListenerOptions[], tls: EngineTls | undefined): ListenerSpec[] {
  return listen.map((l) => {
    const id = l.id ?? `${l.transport}-${l.host}-${l.port}`;
    let server: Pick<ListenerSpec, 'tls' | 'checkInbound'> = l.tls ? { tls: l.tls } : {};
    if (l.transport === 'tls' && !l.tls && l.tlsProfile !== undefined) {
      if (!tls) throw new GatewayError('ERR_TLS_PROFILE_INVALID', `tls listener ${id}: profile ${l.tlsProfile} but no TLS profiles given`);
      server = tls.listener({
        id, tlsProfile: l.tlsProfile,
        ...(l.tenant !== undefined ? { tenant: l.tenant } : {}),
        ...(l.sniProfiles ? { sniProfiles: l.sniProfiles } : {}),
        ...(l.refuseUnknownSni ? { refuseUnknownSni: true } : {}),
      });
    }
    return {
      id, protocol: l.transport, host: l.host, port: l.port, ...server, ...(l.optional ? { optional: true } : {}),
      ...(l.tenant !== undefined ? { tenant: l.tenant } : {}),
      ...(l.tlsProfile !== undefined ? { tlsProfile: l.tlsProfile } : {}),
    };
  });
}

/** The transport's bounds from the engine's (gateway.limits): what is not given keeps the transport's default. */
export function transportLimitOptions(tl: TransportLimits): Partial<TransportLayerOptions> {
  return {
    ...(tl.handshakeTimeoutMs !== undefined ? { connectTimeoutMs: tl.handshakeTimeoutMs } : {}),
    ...(tl.unusedTimeoutMs !== undefined ? { unusedTimeoutMs: tl.unusedTimeoutMs } : {}),
    ...(tl.idleTimeoutMs !== undefined ? { idleTimeoutMs: tl.idleTimeoutMs } : {}),
    ...(tl.messageTimeoutMs !== undefined ? { messageTimeoutMs: tl.messageTimeoutMs } : {}),
    ...(tl.maxSendBufferBytes !== undefined ? { maxSendBufferBytes: tl.maxSendBufferBytes } : {}),
    ...(tl.maxOutboundConnections !== undefined ? { maxOutboundConnections: tl.maxOutboundConnections } : {}),
    ...(tl.maxOutboundConnectionsPerAddress !== undefined ? { maxOutboundConnectionsPerAddress: tl.maxOutboundConnectionsPerAddress } : {}),
    ...(tl.badRequestsPerSecondPerSource !== undefined ? { badRequestsPerSecond: tl.badRequestsPerSecondPerSource } : {}),
    connections: {
      ...(tl.maxConnections !== undefined ? { maxConnections: tl.maxConnections } : {}),
      ...(tl.maxConnectionsPerSource !== undefined ? { maxConnectionsPerSource: tl.maxConnectionsPerSource } : {}),
      ...(tl.maxHandshakes !== undefined ? { maxHandshakes: tl.maxHandshakes } : {}),
      ...(tl.maxHandshakesPerSource !== undefined ? { maxHandshakesPerSource: tl.maxHandshakesPerSource } : {}),
    },
    ...(tl.maxMessageBytes !== undefined || tl.maxHeaders !== undefined ? { limits: {
      ...(tl.maxMessageBytes !== undefined ? { maxMessageBytes: tl.maxMessageBytes } : {}),
      ...(tl.maxHeaders !== undefined ? { maxHeaders: tl.maxHeaders } : {}),
    } } : {}),
  };
}

/**
 * The overload guard's reading of the kernel's receive queues of the engine's UDP listeners (udp-queue.ts), as they
 * are open now (`listeners`, undefined before they open; a listener bound on retry changes them). A socket table
 * too long to read every 100 ms turns the reading off, with one warn line: the other signs go on.
 */
export function udpListenerQueue(listeners: () => readonly ListenerInfo[] | undefined, log: Pick<Logger, 'warn'>): () => ReturnType<typeof udpKernelQueue> | undefined {
  let ports: Set<number> | undefined;
  let portsOf: readonly ListenerInfo[] | undefined;
  let off = false;
  return () => {
    if (off) return undefined;
    const now = listeners();
    if (portsOf !== now) ports = undefined;
    portsOf = now;
    ports ??= now ? new Set(now.filter((l) => l.protocol === 'udp').map((l) => l.port)) : undefined;
    const q = ports && ports.size > 0 ? udpKernelQueue(ports) : undefined;
    if (q?.truncated) {
      off = true;
      log.warn({ code: 'ERR_ENGINE_OVERLOAD' }, 'the kernel\'s UDP socket table is too long to read every 100 ms: overload control goes on without the UDP backlog');
      return undefined;
    }
    return q;
  };
}
