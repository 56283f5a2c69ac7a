/** Free loopback ports for test peers, picked where no outgoing socket will take them first. */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/**
 * Ports are picked below the kernel's ephemeral range (32768-60999 on Linux): a port found free there and
 * closed again can be taken by any outgoing socket before sipp binds it, which failed runs in CI.
 * Each process starts at its own offset so parallel test files rarely try the same port.
 */
const PICK_LOW = 20_000;
const PICK_HIGH = 32_000;
let pickNext = PICK_LOW + ((process.pid * 97) % (PICK_HIGH - PICK_LOW));

function nextCandidate(step: number): number {
  pickNext += step;
  if (pickNext + step >= PICK_HIGH) pickNext = PICK_LOW + (pickNext % step);
  return pickNext - (pickNext % step);
}

export function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((ok) => {
    const u = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    u.once('error', () => ok(false));
    u.bind(port, host, () => u.close(() => ok(true)));
  });
}

export function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, host, () => s.close(() => ok(true)));
  });
}

/** A port free on both UDP and TCP on the address, so either transport can bind it. */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = nextCandidate(1);
    if ((await tcpFree(port, host)) && (await udpFree(port, host))) return port;
  }
  throw new Error(`no free port found on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}

/** A base for sipp's media (-mp): it binds audio RTP/RTCP and video RTP/RTCP at base..base+3, all checked. */
export async function freeMediaPort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const base = nextCandidate(4);
    let all = true;
    for (let k = 0; k < 4 && all; k++) all = await udpFree(base + k, host);
    if (all) return base;
  }
  throw new Error(`no four free media ports found on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}

