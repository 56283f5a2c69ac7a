/**
 * Per-leg latency of single calls through the gateway, one at a time, with no sipp: a UDP UAC and a UAS that
 * answers 200 at once, timed with performance.now() on both sides. Splits INVITE→UAS (A leg in, app, B leg out)
 * from 200→UAC (B leg in, app, A leg out), so a change in either direction shows.
 *   node --import tsx bench/latency-probe.ts [dist|src] [calls=100] [worker|same]     (GAP_MS=20 between calls)
 * dist is what `npm run build` made (build first); `same` runs the engine in the app's thread.
 */
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
const root = process.argv[2] === 'src' ? '../src' : '../dist';
const { startGateway } = await import(`${root}/gateway.js`);
const uas = createSocket('udp4'); uas.bind(0, '127.0.0.1'); await once(uas, 'listening');
const uac = createSocket('udp4'); uac.bind(0, '127.0.0.1'); await once(uac, 'listening');
const uasPort = uas.address().port, uacPort = uac.address().port;
const gw = await startGateway({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { host: '127.0.0.1', port: 0, secret: 's' },
  target: `127.0.0.1:${uasPort}`, logLevel: 'silent', engineInWorker: process.argv[4] !== 'same' });
const gwPort = gw.addresses.sip[0].port;
const hdr = (m: string, n: string) => new RegExp(`^${n}:\\s*(.*)$`, 'im').exec(m)?.[1] ?? '';
let tInvAtUas = 0, t200Sent = 0;
uas.on('message', (b, r) => {
  const m = b.toString();
  if (m.startsWith('INVITE')) {
    tInvAtUas = performance.now();
    const vias = m.split('\r\n').filter((l) => /^via:/i.test(l));
    const base = [...vias, `From: ${hdr(m, 'From')}`, `To: ${hdr(m, 'To')};tag=u1`, `Call-ID: ${hdr(m, 'Call-ID')}`, `CSeq: ${hdr(m, 'CSeq')}`, `Contact: <sip:u@127.0.0.1:${uasPort}>`];
    t200Sent = performance.now();
    uas.send(['SIP/2.0 200 OK', ...base, 'Content-Type: application/sdp', 'Content-Length: 4', '', 'v=0\n'].join('\r\n'), r.port, '127.0.0.1');
  } else if (m.startsWith('BYE')) {
    const vias = m.split('\r\n').filter((l) => /^via:/i.test(l));
    uas.send(['SIP/2.0 200 OK', ...vias, `From: ${hdr(m, 'From')}`, `To: ${hdr(m, 'To')}`, `Call-ID: ${hdr(m, 'Call-ID')}`, `CSeq: ${hdr(m, 'CSeq')}`, 'Content-Length: 0', '', ''].join('\r\n'), r.port, '127.0.0.1');
  }
});
const a: number[] = [], b: number[] = [], tot: number[] = [];
for (let i = 0; i < Number(process.argv[3] ?? 100); i++) {
  const cid = `lat-${i}-${process.pid}`;
  const common = (br: string, cseq: string, tt = '') => [`Via: SIP/2.0/UDP 127.0.0.1:${uacPort};rport;branch=z9hG4bK${br}`, 'Max-Forwards: 70',
    `From: <sip:a@127.0.0.1>;tag=a${i}`, `To: <sip:b@127.0.0.1>${tt}`, `Call-ID: ${cid}`, `CSeq: ${cseq}`, `Contact: <sip:a@127.0.0.1:${uacPort}>`];
  const got = new Promise<string>((res) => { const f = (m: Buffer) => { const s = m.toString(); if (/^SIP\/2.0 200/.test(s) && /INVITE/.test(hdr(s, 'CSeq'))) { uac.off('message', f); res(s); } }; uac.on('message', f); });
  const t0 = performance.now();
  uac.send([`INVITE sip:b@127.0.0.1:${gwPort} SIP/2.0`, ...common(`i${i}`, '1 INVITE'), 'Content-Type: application/sdp', 'Content-Length: 4', '', 'v=0\n'].join('\r\n'), gwPort, '127.0.0.1');
  const ok = await got; const t3 = performance.now();
  a.push(tInvAtUas - t0); b.push(t3 - t200Sent); tot.push(t3 - t0);
  const tag = /;tag=([^;>\s]+)/.exec(hdr(ok, 'To'))![1];
  uac.send([`ACK sip:b@127.0.0.1:${gwPort} SIP/2.0`, ...common(`k${i}`, '1 ACK', `;tag=${tag}`), 'Content-Length: 0', '', ''].join('\r\n'), gwPort, '127.0.0.1');
  uac.send([`BYE sip:b@127.0.0.1:${gwPort} SIP/2.0`, ...common(`y${i}`, '2 BYE', `;tag=${tag}`), 'Content-Length: 0', '', ''].join('\r\n'), gwPort, '127.0.0.1');
  await new Promise((r) => setTimeout(r, Number(process.env.GAP_MS ?? 20)));
}
const st = (x: number[]) => { const s = [...x].sort((p, q) => p - q); return `avg ${(x.reduce((p, q) => p + q, 0) / x.length).toFixed(2)} p50 ${s[Math.floor(s.length / 2)]!.toFixed(2)} p99 ${s[Math.floor(s.length * 0.99)]!.toFixed(2)} max ${s[s.length - 1]!.toFixed(2)}`; };
console.log('A→UAS (INVITE leg):', st(a)); console.log('UAS→A (200 leg):   ', st(b)); console.log('total:             ', st(tot));
await gw.close(); uas.close(); uac.close();

