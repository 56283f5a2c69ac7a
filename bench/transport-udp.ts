/**
 * UDP receive throughput of the transport layer: datagrams of SIP through `onMessage` on one core.
 * A worker thread (the other core) sends OPTIONS requests over loopback; the main thread runs the layer.
 * A second run paces the sender at 30,000 datagrams/s for 3 s to show what is lost at the target rate.
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
  const paced = workerData.perTick > 0;
  const pump = () => {
    let sentNow = 0;
    while (i < workerData.count && inflight < 512 && (!paced || sentNow++ < workerData.perTick)) {
      inflight++;
      s.send(msgs[i % msgs.length], workerData.port, '127.0.0.1', () => { inflight--; });
      i++;
    }
    if (i < workerData.count) (paced ? setTimeout(pump, 10) : setImmediate(pump));
    else { const wait = () => (inflight > 0 ? setImmediate(wait) : (s.close(), parentPort.postMessage('done'))); wait(); }
  };
  pump();
});`;
const msgs = Array.from({ length: 64 }, (_, i) => request(i));

async function run(n: number, perTick: number): Promise<{ received: number; sendMs: number; recvMs: number }> {
  received = 0;
  first = 0;
  last = 0;
  const started = performance.now();
  const worker = new Worker(senderCode, { eval: true, workerData: { count: n, port, msgs, perTick } });
  await new Promise((resolve) => worker.once('message', resolve));
  const sendMs = performance.now() - started;
  // Let the receiver drain what is queued in the socket buffer (bounded).
  const drainUntil = performance.now() + 3_000;
  while (received < n && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  await worker.terminate();
  return { received, sendMs, recvMs: last - first };
}

const flat = await run(count, 0);
const pacedCount = 90_000;
const paced = await run(pacedCount, 300);
const s = layer.stats();
await layer.close();

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
console.log(`datagrams of ${sample.length} bytes; layer drops ${s.dropped}`);
console.log('| path | sent | received | lost | ms | received/s |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
console.log(`| parseMessage only (no socket) | - | ${fmt(parseRuns)} | - | ${parseMs.toFixed(0)} | ${fmt(parseRuns / (parseMs / 1000))} |`);
console.log(`| UDP loopback → onMessage, sender unpaced | ${fmt(count)} | ${fmt(flat.received)} | ${fmt(count - flat.received)} | ${flat.recvMs.toFixed(0)} | ${fmt(flat.received / (flat.recvMs / 1000))} |`);
console.log(`| UDP loopback → onMessage, sender paced 30,000/s | ${fmt(pacedCount)} | ${fmt(paced.received)} | ${fmt(pacedCount - paced.received)} | ${paced.recvMs.toFixed(0)} | ${fmt(paced.received / (paced.recvMs / 1000))} |`);
