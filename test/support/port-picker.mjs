// Free loopback ports for test peers, picked where no outgoing socket will take them first. Plain JavaScript so
// that both the TypeScript tests (through ports.ts) and the drachtio-srf suite's sipp runner
// (scripts/srf-suite/local-sipp.cjs, CommonJS) use this one picker.
import { createSocket } from 'node:dgram';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Ports are picked below the kernel's ephemeral range (32768-60999 on Linux): a port found free there and closed
// again can be taken by any outgoing socket before sipp binds it (sipp then exits 254, it could not bind), which
// failed runs in CI. Each process starts at its own offset so parallel test files rarely try the same port, and
// the reservation below makes sure two never get the same one.
const PICK_LOW = 20_000;
const PICK_HIGH = 32_000;
// TRUNKGATE_TEST_PORT_START sets the offset, for the test that proves two pickers starting together never share.
let pickNext = Number(process.env.TRUNKGATE_TEST_PORT_START) || PICK_LOW + ((process.pid * 97) % (PICK_HIGH - PICK_LOW));

// A port found free is reserved across processes before it is handed out: test files run in parallel, and two of
// them could otherwise find the same port free before either binds it (one then fails with EADDRINUSE). A
// reservation is a file named after the port, created exclusively, holding the owner's pid; it is removed when the
// owner exits. Files left by a process that was killed are swept once per process when their owner is gone.
const RESERVE_DIR = join(tmpdir(), 'trunkgate-test-ports');
const STALE_MS = 60_000;
/** @type {Set<string>} */
const reserved = new Set();
let swept = false;

/** @param {number} pid */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return /** @type {NodeJS.ErrnoException} */ (e).code === 'EPERM';
  }
}

function sweepStale() {
  swept = true;
  mkdirSync(RESERVE_DIR, { recursive: true });
  const now = Date.now();
  for (const name of readdirSync(RESERVE_DIR)) {
    const file = join(RESERVE_DIR, name);
    try {
      const owner = Number(readFileSync(file, 'utf8'));
      if (owner > 0 && !alive(owner) && now - statSync(file).mtimeMs > STALE_MS) unlinkSync(file);
    } catch {
      // Gone already, or being written: either way not ours to remove.
    }
  }
}

/** Claims the port for this process; false when another live process holds it. @param {number} port */
function reserve(port) {
  if (!swept) sweepStale();
  const file = join(RESERVE_DIR, String(port));
  try {
    const fd = openSync(file, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
  } catch (e) {
    if (/** @type {NodeJS.ErrnoException} */ (e).code === 'EEXIST') return false;
    throw e;
  }
  reserved.add(file);
  return true;
}

process.on('exit', () => {
  for (const file of reserved) {
    try {
      unlinkSync(file);
    } catch {
      // Removed by a sweep after all: nothing to release.
    }
  }
});

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
  // A port this process holds already (a media range it reserved, say) is passed over without counting as a try:
  // a pick right after a 400-port range would otherwise spend all its tries inside that range.
  for (let tries = 0, walked = 0; tries < 200 && walked < PICK_HIGH - PICK_LOW; walked++) {
    const port = nextCandidate(1);
    if (reserved.has(join(RESERVE_DIR, String(port)))) continue;
    tries++;
    if (!reserve(port)) continue;
    if ((await tcpFree(port, host)) && (await udpFree(port, host))) return port;
  }
  throw new Error(`no free port found on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}

/** A base for sipp's media (-mp): it binds audio RTP/RTCP and video RTP/RTCP at base..base+3, all checked. @returns {Promise<number>} */
export function freeMediaPort(host = '127.0.0.1') {
  return freeUdpBlock(4, host);
}

/**
 * The first of `count` consecutive UDP ports, each reserved and found free, starting at an even port (as RTP
 * wants): a media range for rtpengine or baresip that no other picker hands out while this process
 * lives. A range taken at random instead once took a sipp UAS's port and failed its test with EADDRINUSE.
 * @param {number} count @param {string} host @returns {Promise<number>}
 */
export async function freeUdpBlock(count, host = '127.0.0.1') {
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new RangeError(`a block of 1-1000 ports, not ${count}`);
  const step = count + (count % 2);
  for (let i = 0; i < 200; i++) {
    const base = nextCandidate(step);
    let all = true;
    for (let k = 0; k < count && all; k++) all = reserve(base + k) && (await udpFree(base + k, host));
    if (all) return base;
  }
  throw new Error(`no ${count} free consecutive UDP ports found on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}
