import type { Logger } from '../../log/logger.js';
import type { ParseLimits } from '../message/types.js';
import { ConnectionGate, DEFAULT_CONNECTION_LIMITS, type ConnectionLimitCode, type ConnectionLimits } from './connection-gate.js';
import { fitConnectionLimits, readOpenFilesLimit } from './fd-limit.js';
import type { RefusedInputLog } from './input-log.js';
import type { ListenerSpec, TransportLayerOptions } from './layer-types.js';
import { DEFAULT_MAX_OUTBOUND_CONNECTIONS } from './outbound-limit.js';

// The transport layer's bounds, from its options: message sizes, connections at accept, and connections it opens.

/** The log line's words for each connection refused at accept. */
const REFUSAL_TEXT: Record<ConnectionLimitCode, string> = {
  ERR_SIP_TRANSPORT_CONN_LIMIT: 'too many connections open',
  ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT: 'too many connections from this source',
  ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT: 'too many TLS handshakes in progress',
  ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT: 'too many TLS handshakes in progress from this source',
};

/**
 * The parser's bounds, defaults filled in (`resolved`); `parser` is undefined when none is configured, so the
 * receive path's hot path allocates nothing for them.
 */
export function parseLimits(l: TransportLayerOptions['limits']): { parser: ParseLimits | undefined; resolved: ParseLimits } {
  return {
    parser: l && (l.maxMessageBytes !== undefined || l.maxHeaders !== undefined || l.maxLineBytes !== undefined)
      ? { maxMessageBytes: l.maxMessageBytes ?? 65_535, maxHeaders: l.maxHeaders ?? 256, maxLineBytes: l.maxLineBytes ?? 8_192 }
      : undefined,
    resolved: {
      maxMessageBytes: l?.maxMessageBytes ?? 65_535,
      maxHeaders: l?.maxHeaders ?? 256,
      maxLineBytes: l?.maxLineBytes ?? 8_192,
    },
  };
}

/**
 * The inbound and outbound connection limits, from the options, fitted to the open-files limit (fd-limit.ts); one
 * warning names the configured and the fitted values when they had to give way.
 */
export function connectionLimits(options: TransportLayerOptions, log: Logger): { inbound: ConnectionLimits; maxOutbound: number } {
  const configured = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections };
  const configuredOut = options.maxOutboundConnections ?? DEFAULT_MAX_OUTBOUND_CONNECTIONS;
  const fit = fitConnectionLimits(configured, options.openFilesLimit ?? readOpenFilesLimit(), configuredOut);
  const inbound = fit.limits.maxConnections;
  if (fit.lowered) {
    log.warn({
      code: 'ERR_SIP_TRANSPORT_FD_RESERVE', configured: configured.maxConnections, maxConnections: inbound,
      configuredOutbound: configuredOut, maxOutboundConnections: fit.maxOutbound, usable: fit.usable,
    }, `the open-files limit leaves room for ${inbound} inbound and ${fit.maxOutbound} outbound connections, not the `
      + `${configured.maxConnections} and ${configuredOut} configured; the rest of the descriptors are kept for the admin API `
      + 'and the calls in progress (raise it with ulimit -n or LimitNOFILE)');
  }
  return { inbound: fit.limits, maxOutbound: fit.maxOutbound };
}

/**
 * What an error of a bound listening socket does: it is counted by `count` (stats().drops) and logged through
 * `refusedLog`, at most one line a minute (an accept failing on every connection cannot flood the log).
 */
export function listenerErrorReport(refusedLog: RefusedInputLog, count: (code: 'ERR_SIP_TRANSPORT_LISTENER') => void):
  (spec: ListenerSpec, e: NodeJS.ErrnoException) => void {
  return (spec, e) => {
    count('ERR_SIP_TRANSPORT_LISTENER');
    refusedLog.refused('ERR_SIP_TRANSPORT_LISTENER', `${spec.id}: ${e.code ?? e.message}`, '-', spec.protocol, `listener error on ${spec.protocol} ${spec.host}:${spec.port}`);
  };
}

/**
 * The gate on inbound TCP/TLS connections with `limits` (as fitted by connectionLimits). Each connection it refuses
 * is counted by `count` and logged through `refusedLog`.
 */
export function acceptGate(limits: ConnectionLimits, refusedLog: RefusedInputLog, count: (code: ConnectionLimitCode) => void): ConnectionGate {
  return new ConnectionGate(limits, (code, socket) => {
    count(code);
    const remote = `${socket.remoteAddress ?? '-'}:${socket.remotePort ?? '-'}`;
    const what = REFUSAL_TEXT[code];
    refusedLog.refused(code, what, remote, 'tcp', `connection refused at accept: ${what}`);
  });
}
