import { closeSync, openSync, readSync } from 'node:fs';

/** What the kernel holds for the UDP sockets bound to some ports: bytes waiting to be read, and datagrams it dropped. */
export interface UdpKernelQueue {
  /** Bytes received and not yet read, summed over the sockets. */
  queuedBytes: number;
  /** Datagrams dropped because a receive buffer was full, since each socket opened. */
  drops: number;
  /** The tables were longer than is read (MAX_TABLE_BYTES): sockets past that were not seen. */
  truncated?: boolean;
}

/**
 * The most read of each table. A host with many UDP sockets (a media relay beside the gateway) has tables of
 * megabytes, which are not worth reading ten times a second: past this the reading says it was cut short.
 */
const MAX_TABLE_BYTES = 256 * 1024;
let buffer: Buffer | undefined;

/** The start of a /proc table, at most MAX_TABLE_BYTES; undefined when it cannot be read. */
function readTable(path: string): { text: string; truncated: boolean } | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    buffer ??= Buffer.allocUnsafe(MAX_TABLE_BYTES + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buffer, n, buffer.length - n, null);
      if (got === 0) break;
      n += got;
      if (n >= buffer.length) break;
    }
    const truncated = n > MAX_TABLE_BYTES;
    const text = buffer.toString('latin1', 0, Math.min(n, MAX_TABLE_BYTES));
    // A cut table ends inside a line: that line is left out.
    return { text: truncated ? text.slice(0, text.lastIndexOf('\n') + 1) : text, truncated };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
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
  let truncated = false;
  let queuedBytes = 0;
  let drops = 0;
  for (const table of TABLES) {
    const read = readTable(table);
    if (!read) continue;
    found = true;
    truncated ||= read.truncated;
    const text = read.text;
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
  if (!found) return undefined;
  return truncated ? { queuedBytes, drops, truncated } : { queuedBytes, drops };
}
