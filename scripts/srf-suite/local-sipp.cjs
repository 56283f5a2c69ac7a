// Stand-in for drachtio-srf's test/sipp.js: the same exports (output, sippUac, sippUas), but sipp runs
// locally on loopback instead of in a docker network. Written into the scratch copy by prepare.mjs.
const { spawn } = require('child_process');
const path = require('path');

const SUT = process.env.SRF_SUITE_SUT || '127.0.0.1:5060';
const obj = {};
let output = '';
let idx = 1;

function addOutput(str) {
  for (let i = 0; i < str.length; i++) if (str.charCodeAt(i) < 128) output += str.charAt(i);
}

// Ports come from the tests' own picker (test/support/port-picker.mjs): below the kernel's ephemeral range, where
// no outgoing socket takes a port between the check and sipp's bind, and sipp's four media ports all checked.
const picker = import(require('url').pathToFileURL(path.join(process.env.SRF_SUITE_REPO, 'test', 'support', 'port-picker.mjs')).href);
const freePort = async(host) => (await picker).freePort(host);
const freeMediaPort = async(host) => (await picker).freeMediaPort(host);

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
