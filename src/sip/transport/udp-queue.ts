import { readFileSync } from 'node:fs';

/** What the kernel holds for the UDP sockets bound to some ports: bytes waiting to be read, and datagrams it dropped. */
export interface UdpKernelQueue {
  /** Bytes received and not yet read, summed over the sockets. */
  queuedBytes: number;
  /** Datagrams dropped because a receive buffer was full, since each socket opened. */
  drops: number;
}

const TABLES = ['/proc/net/udp', '/proc/net/udp6'];

/**
 * Reads Linux's UDP socket tables (/proc/net/udp and udp6: `local_address` as hex address:port, `rx_queue` in hex
 * bytes, `drops` last) for the sockets bound to `ports`. A datagram waiting in the kernel is invisible to the event
 * loop, so a thread that reads as fast as it can shows no delay while its backlog grows: this is the backlog itself.
 * Undefined where the tables cannot be read (not Linux, or no /proc).
 */
export function udpKernelQueue(ports: ReadonlySet<number>): UdpKernelQueue | undefined {
  let found = false;
  let queuedBytes = 0;
  let drops = 0;
  for (const table of TABLES) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue;
    }
    found = true;
    let at = text.indexOf('\n') + 1;
    while (at > 0 && at < text.length) {
      const end = text.indexOf('\n', at);
      const line = text.slice(at, end < 0 ? text.length : end);
      at = end < 0 ? text.length : end + 1;
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (local === undefined) continue;
      const port = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
      if (!ports.has(port)) continue;
      const queues = f[4] ?? '';
      queuedBytes += parseInt(queues.slice(queues.indexOf(':') + 1), 16) || 0;
      drops += Number(f[f.length - 1]) || 0;
    }
  }
  return found ? { queuedBytes, drops } : undefined;
}
