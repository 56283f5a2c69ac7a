import { readFileSync } from 'node:fs';
import type { ConnectionLimits } from './connection-gate.js';
import { DEFAULT_MAX_OUTBOUND_CONNECTIONS } from './outbound-limit.js';

/** The soft limit on open files of this process, from /proc (Linux); undefined where it cannot be read. */
export function readOpenFilesLimit(path = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(path, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === undefined || soft === 'unlimited') return undefined;
    const n = Number(soft);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/**
 * File descriptors kept out of the inbound and outbound connection limits, for the admin API, the control
 * connection, UDP sockets, log and certificate files: an eighth of the limit, at least 128 and at most 1,024.
 */
export function fileReserve(openFilesLimit: number): number {
  return Math.min(1_024, Math.max(128, Math.floor(openFilesLimit / 8)));
}

/** The connection limits that fit the open-files limit: inbound (`limits`) and outbound (`maxOutbound`). */
export interface FittedConnections {
  limits: ConnectionLimits;
  maxOutbound: number;
  /** Whether a configured limit had to give way. */
  lowered: boolean;
  /** The descriptors the limits share: the open-files limit less the reserve (absent when the limit is unknown). */
  usable?: number;
}

/**
 * The connection limits made to fit the process's open-files limit: inbound connections (and so handshakes) plus
 * outbound ones at most the limit less the reserve, so that a full SIP side never takes the descriptors the admin
 * API and the calls in progress need. Limits that fit are kept as configured. When they do not, the outbound limit
 * gives way first, but only down to a quarter of the usable descriptors (or to what the inbound limit leaves free,
 * if that is more); the inbound limit gets the rest. So an outbound limit sized for a few trunks stays as configured
 * and only the inbound one gives way, while a large outbound limit takes at most a quarter from a large inbound one.
 * Each keeps at least one connection.
 */
export function fitConnectionLimits(limits: ConnectionLimits, openFilesLimit: number | undefined,
  maxOutbound = DEFAULT_MAX_OUTBOUND_CONNECTIONS): FittedConnections {
  if (openFilesLimit === undefined) return { limits, maxOutbound, lowered: false };
  const usable = Math.max(1, openFilesLimit - fileReserve(openFilesLimit));
  if (limits.maxConnections + maxOutbound <= usable) return { limits, maxOutbound, lowered: false, usable };
  const outbound = Math.max(1, Math.min(maxOutbound, Math.max(Math.floor(usable / 4), usable - limits.maxConnections)));
  const inbound = Math.max(1, Math.min(limits.maxConnections, usable - outbound));
  return {
    limits: inbound === limits.maxConnections ? limits : {
      ...limits,
      maxConnections: inbound,
      maxHandshakes: Math.min(limits.maxHandshakes, inbound),
    },
    maxOutbound: outbound,
    lowered: true,
    usable,
  };
}
