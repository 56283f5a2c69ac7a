import type { Logger } from '../../log/logger.js';
import type { ParseLimits } from '../message/types.js';
import { ConnectionGate, DEFAULT_CONNECTION_LIMITS, type ConnectionLimitCode } from './connection-gate.js';
import { fitConnectionLimits, readOpenFilesLimit } from './fd-limit.js';
import type { RefusedInputLog } from './input-log.js';
import type { TransportLayerOptions } from './layer-types.js';

// The transport layer's bounds on input, from its options: message sizes, and connections at accept.

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
 * The gate on inbound TCP/TLS connections, its limits fitted to the open-files limit (a warning when the configured
 * ones had to give way). Each connection it refuses is counted by `count` and logged through `refusedLog`.
 */
export function acceptGate(options: TransportLayerOptions, log: Logger, refusedLog: RefusedInputLog,
  count: (code: ConnectionLimitCode) => void): ConnectionGate {
  const configured = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections };
  const fit = fitConnectionLimits(configured, options.openFilesLimit ?? readOpenFilesLimit());
  if (fit.lowered) {
    log.warn({ code: 'ERR_SIP_TRANSPORT_FD_RESERVE', configured: configured.maxConnections, maxConnections: fit.limits.maxConnections },
      `the open-files limit leaves room for ${fit.limits.maxConnections} inbound connections, not the ${configured.maxConnections} configured; `
      + 'the rest of the descriptors are kept for the admin API and the calls in progress (raise it with ulimit -n or LimitNOFILE)');
  }
  return new ConnectionGate(fit.limits, (code, socket) => {
    count(code);
    const remote = `${socket.remoteAddress ?? '-'}:${socket.remotePort ?? '-'}`;
    const what = REFUSAL_TEXT[code];
    refusedLog.refused(code, what, remote, 'tcp', `connection refused at accept: ${what}`);
  });
}
