import { readFileSync } from 'node:fs';
import type { ConnectionLimits } from './connection-gate.js';

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
 * File descriptors kept out of the connection limits, for the admin API, the control connection, outbound B legs,
 * log and certificate files: an eighth of the limit, at least 128 and at most 1,024.
 */
export function fileReserve(openFilesLimit: number): number {
  return Math.min(1_024, Math.max(128, Math.floor(openFilesLimit / 8)));
}

/**
 * The connection limits made to fit the process's open-files limit: inbound connections (and so handshakes) at most
 * the limit less the reserve, so that a full SIP side never takes the descriptors the admin API and the calls in
 * progress need. `lowered` says whether the configured limit had to give way.
 */
export function fitConnectionLimits(limits: ConnectionLimits, openFilesLimit: number | undefined): { limits: ConnectionLimits; lowered: boolean; usable?: number } {
  if (openFilesLimit === undefined) return { limits, lowered: false };
  const usable = Math.max(1, openFilesLimit - fileReserve(openFilesLimit));
  if (limits.maxConnections <= usable) return { limits, lowered: false, usable };
  return {
    limits: {
      ...limits,
      maxConnections: usable,
      maxHandshakes: Math.min(limits.maxHandshakes, usable),
    },
    lowered: true,
    usable,
  };
}
