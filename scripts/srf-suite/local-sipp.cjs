// Stand-in for drachtio-srf's test/sipp.js: the same exports (output, sippUac, sippUas), but sipp runs
// locally on loopback instead of in a docker network. Written into the scratch copy by prepare.mjs.
const { spawn } = require('child_process');
const net = require('net');
const dgram = require('dgram');
const path = require('path');

const SUT = process.env.SRF_SUITE_SUT || '127.0.0.1:5060';
const obj = {};
let output = '';
let idx = 1;

function addOutput(str) {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) < 128) output += str.charAt(i);
}

// Ports come from below the kernel's ephemeral range (32768-60999), as test/support/ports.ts picks them: a port
// found free in that range and closed again can be taken by an outgoing socket before sipp binds it, and sipp then
// exits 254 (it could not bind) before any call.
const PICK_LOW = 20_000;
const PICK_HIGH = 32_000;
let pickNext = PICK_LOW + ((process.pid * 131) % (PICK_HIGH - PICK_LOW));

function nextCandidate(step) {
  pickNext += step;
  if (pickNext + step >= PICK_HIGH) pickNext = PICK_LOW + (pickNext % step);
  return pickNext - (pickNext % step);
}

function udpFree(port, host) {
  return new Promise((ok) => {
    const u = dgram.createSocket('udp4');
    u.once('error', () => ok(false));
    u.bind(port, host, () => u.close(() => ok(true)));
  });
}

function tcpFree(port, host) {
  return new Promise((ok) => {
    const s = net.createServer();
    s.once('error', () => ok(false));
    s.listen(port, host, () => s.close(() => ok(true)));
  });
}

/** A signalling port free on UDP and TCP. */
async function freePort(host) {
  for (let i = 0; i < 200; i++) {
    const port = nextCandidate(1);
    if ((await tcpFree(port, host)) && (await udpFree(port, host))) return port;
  }
  throw new Error(`no free port on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}

/** A media base (-mp): sipp binds audio RTP/RTCP and video RTP/RTCP at base..base+3, all checked. */
async function freeMediaPort(host) {
  for (let i = 0; i < 200; i++) {
    const base = nextCandidate(4);
    let all = true;
    for (let k = 0; k < 4 && all; k++) all = await udpFree(base + k, host);
    if (all) return base;
  }
  throw new Error(`no four free media ports on ${host} in ${PICK_LOW}-${PICK_HIGH}`);
}

module.exports = () => obj;

obj.output = () => output;

obj.sippUac = async(file) => {
  output = '';
  const args = [
    '-sf', path.join(__dirname, 'scenarios', file),
    '-i', '127.0.0.1', '-p', String(await freePort('127.0.0.1')), '-mp', String(await freeMediaPort('127.0.0.1')),
    '-m', '1', '-sleep', '250ms', '-nostdin', '-timeout', '60s', '-timeout_error',
    '-cid_str', `%u-%p@%s-${idx++}`,
    SUT,
  ];
  return runSipp(args);
};

// The second argument was a container name; prepare.mjs rewrote it to the loopback address it stands for.
obj.sippUas = async(file, ip) => {
  const args = [
    '-sf', path.join(__dirname, 'scenarios', file),
    '-i', ip, '-p', '5060', '-mp', String(await freeMediaPort(ip)),
    '-m', '1', '-nostdin', '-timeout', '60s', '-timeout_error',
  ];
  return runSipp(args);
};

function runSipp(args) {
  return new Promise((resolve, reject) => {
    const child = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: require('os').tmpdir() });
    child.on('exit', (code, signal) => {
      if (code === 0) return resolve();
      console.log(`sipp exited with non-zero code ${code} signal ${signal}`);
      reject(code);
    });
    child.on('error', (err) => console.log(`error spawning sipp: ${err.message} (apt-get install -y sip-tester)`));
    child.stdout.on('data', (d) => addOutput(d.toString()));
    child.stderr.on('data', (d) => addOutput(d.toString()));
  });
}
