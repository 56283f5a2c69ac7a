/**
 * UDP receive throughput of the transport layer: datagrams of SIP through `onMessage` on one core.
 * A worker thread (the other core) sends OPTIONS requests over loopback; the main thread runs the layer.
 *   node --import tsx bench/transport-udp.ts [count=200000]
 */
import { Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { TransportLayer } from '../src/sip/transport/transport-layer.js';
import { parseMessage } from '../src/sip/message/index.js';

const count = Number(process.argv[2] ?? 200_000);

function request(i: number): string {
  return (
    `OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-${i};rport\r\n` +
    'Max-Forwards: 70\r\n' +
    `From: <sip:bench@127.0.0.1>;tag=${i}\r\n` +
    'To: <sip:gw@127.0.0.1>\r\n' +
    `Call-ID: ${i}-bench@127.0.0.1\r\n` +
    'CSeq: 1 OPTIONS\r\n' +
    'Contact: <sip:bench@127.0.0.1:5099>\r\n' +
    'User-Agent: trunkgate-bench\r\n' +
    'Content-Length: 0\r\n\r\n'
  );
}

const sample = Buffer.from(request(1));

// Row 1: parse alone, no sockets.
const parseRuns = 100_000;
let t0 = performance.now();
for (let i = 0; i < parseRuns; i++) parseMessage(sample);
const parseMs = performance.now() - t0;

// Row 2: the whole receive path over loopback.
const layer = new TransportLayer({ listeners: [{ id: 'bench', protocol: 'udp', host: '127.0.0.1', port: 0 }] });
await layer.start();
const port = layer.listeners()[0]!.port;
let received = 0;
let first = 0;
let last = 0;
layer.setUser({
  onMessage() {
    if (received === 0) first = performance.now();
    received++;
    last = performance.now();
  },
});

const senderCode = `
const { workerData, parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const s = dgram.createSocket('udp4');
s.bind(0, '127.0.0.1', () => {
  s.setSendBufferSize(8 * 1024 * 1024);
  const msgs = workerData.msgs.map((m) => Buffer.from(m));
  let i = 0;
  let inflight = 0;
  const pump = () => {
    while (i < workerData.count && inflight < 512) {
      inflight++;
      s.send(msgs[i % msgs.length], workerData.port, '127.0.0.1', () => { inflight--; });
      i++;
    }
    if (i < workerData.count) setImmediate(pump);
    else { const wait = () => (inflight > 0 ? setImmediate(wait) : (s.close(), parentPort.postMessage('done'))); wait(); }
  };
  pump();
});`;
const msgs = Array.from({ length: 64 }, (_, i) => request(i));
t0 = performance.now();
const worker = new Worker(senderCode, { eval: true, workerData: { count, port, msgs } });
await new Promise((resolve) => worker.once('message', resolve));
const sendMs = performance.now() - t0;
// Let the receiver drain what is queued in the socket buffer (bounded).
const drainUntil = performance.now() + 3_000;
while (received < count && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
await worker.terminate();
const recvMs = last - first;
const s = layer.stats();
await layer.close();

const rows = [
  ['parseMessage only (no socket)', parseRuns, parseMs, parseRuns / (parseMs / 1000)],
  ['UDP loopback → onMessage', received, recvMs, received / (recvMs / 1000)],
];
console.log(`sent ${count} datagrams of ${sample.length} bytes in ${sendMs.toFixed(0)} ms; received ${received}, lost ${count - received}, dropped ${s.dropped}`);
console.log('| path | messages | ms | messages/s |');
console.log('| --- | ---: | ---: | ---: |');
for (const [name, n, ms, rate] of rows) console.log(`| ${name} | ${n} | ${(ms as number).toFixed(0)} | ${Math.round(rate as number).toLocaleString('en-US')} |`);
