// Free loopback ports for test peers, picked where no outgoing socket will take them first. Plain JavaScript so
// that both the TypeScript tests (through ports.ts) and the drachtio-srf suite's sipp runner
// (scripts/srf-suite/local-sipp.cjs, CommonJS) use this one picker.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

// Ports are picked below the kernel's ephemeral range (32768-60999 on Linux): a port found free there and closed
// again can be taken by any outgoing socket before sipp binds it (sipp then exits 254, it could not bind), which
// failed runs in CI. Each process starts at its own offset so parallel test files rarely try the same port.
const PICK_LOW = 20_000;
const PICK_HIGH = 32_000;
let pickNext = PICK_LOW + ((process.pid * 97) % (PICK_HIGH - PICK_LOW));

/** @param {number} step */
function nextCandidate(step) {
  pickNext += step;
  if (pickNext + step >= PICK_HIGH) pickNext = PICK_LOW + (pickNext % step);
  return pickNext - (pickNext % step);
}

/** @param {number} port @param {string} host @returns {Promise<boolean>} */
export function udpFree(port, host) {
  return new Promise((ok) => {
    const u = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    u.once('error', () => ok(false));
    u.bind(port, host, () => u.close(() => ok(true)));
  });
}

/** @param {number} port @param {string} host @returns {Promise<boolean>} */
export function tcpFree(port, host) {
  return new Promise((ok) => {
    const s = createServer();
    s.once('error', () => ok(false));
    s.listen(port, host, () => s.close(() => ok(true)));
  });
}

/** A port free on both UDP and TCP on the address, so either transport can bind it. @returns {Promise<number>} */
export async function freePort(host = '127.0.0.1') {
  for (let i = 0; i < 200; i++) {
    const port = nextCandidate(1);
    if ((await tcpFree(port, host)) && (await udpFree(port, host))) return port;
  }
  throw new Error(`no free port found on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}

/** A base for sipp's media (-mp): it binds audio RTP/RTCP and video RTP/RTCP at base..base+3, all checked. @returns {Promise<number>} */
export async function freeMediaPort(host = '127.0.0.1') {
  for (let i = 0; i < 200; i++) {
    const base = nextCandidate(4);
    let all = true;
    for (let k = 0; k < 4 && all; k++) all = await udpFree(base + k, host);
    if (all) return base;
  }
  throw new Error(`no four free media ports found on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}
