/**
 * Which TCP connections earn the idle timeout: only one a request of which passed the trusted-source check. A
 * connection whose only request was refused 403 (untrusted, 127.0.0.2) or answered 400 is closed at the unused
 * timeout, however many messages it carried; a trusted one (127.0.0.1) is kept until the idle timeout, which the
 * engine takes from its transport limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { startEngine, type Engine } from '../../src/engine/index.js';
import type { SourceTrustOptions } from '../../src/engine/source-trust.js';
import { until } from '../support/until.js';

const TRUST: SourceTrustOptions = {
  defaultTenant: 'pbx',
  tenants: [{ name: 'pbx', transport: 'tcp', sources: ['127.0.0.1'], hosts: [], restrictTls: false }],
};
const UNUSED_MS = 300;
const IDLE_MS = 1_200;

async function engine(t: { after(fn: () => unknown): void }): Promise<{ e: Engine; port: number; closes: Map<string, string> }> {
  const e = await startEngine({
    listen: [{ transport: 'tcp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'use' }, trust: TRUST,
    transportLimits: { unusedTimeoutMs: UNUSED_MS, idleTimeoutMs: IDLE_MS },
  });
  t.after(() => e.close());
  const closes = new Map<string, string>();
  e.transport.on('connectionClose', (info, reason) => closes.set(`${info.remoteAddress}:${info.remotePort}`, reason));
  return { e, port: e.addresses()!.sip[0]!.port, closes };
}

function options(host: string, port: number, branch: string): string {
  return `OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP ${host}:${port};branch=${branch}\r\nMax-Forwards: 70\r\n`
    + `From: <sip:a@${host}>;tag=f${branch}\r\nTo: <sip:gw@127.0.0.1>\r\nCall-ID: ${branch}@test\r\nCSeq: 1 OPTIONS\r\n`
    + 'Content-Length: 0\r\n\r\n';
}

async function client(t: { after(fn: () => unknown): void }, from: string, port: number): Promise<{ s: Socket; got: () => string; key: string }> {
  const s = connect({ host: '127.0.0.1', port, localAddress: from });
  t.after(() => s.destroy());
  s.on('error', () => undefined);
  await once(s, 'connect');
  let got = '';
  s.on('data', (d) => (got += d.toString()));
  return { s, got: () => got, key: `${from}:${s.localPort}` };
}

test('a TCP connection whose only request got 403 is destroyed at the unused timeout, not kept for the idle one', async (t) => {
  const { port, closes } = await engine(t);
  const bad = await client(t, '127.0.0.2', port);
  const opened = Date.now();
  bad.s.write(options('127.0.0.2', bad.s.localPort!, 'z9hG4bKu1'));
  await until(() => bad.got().includes('\r\n\r\n'), 'the 403');
  assert.match(bad.got(), /^SIP\/2\.0 403 Forbidden\r\n/);
  await until(() => closes.has(bad.key), 'the close');
  const held = Date.now() - opened;
  assert.ok(held < IDLE_MS, `closed ${held} ms after it opened`);
  assert.equal(closes.get(bad.key), 'unused timeout');
});

test('a TCP connection whose only message got 400 is destroyed at the unused timeout', async (t) => {
  const { port, closes } = await engine(t);
  const bad = await client(t, '127.0.0.2', port);
  bad.s.write(options('127.0.0.2', bad.s.localPort!, 'z9hG4bKp1').replace('Max-Forwards: 70\r\n', 'Max-Forwards: lots\r\n'));
  await until(() => bad.got().includes('\r\n\r\n'), 'the 400');
  assert.match(bad.got(), /^SIP\/2\.0 400 /);
  await until(() => closes.has(bad.key), 'the close');
  assert.equal(closes.get(bad.key), 'unused timeout');
});

test('a TCP connection a trusted request came on outlives the unused timeout and is closed at the idle one', async (t) => {
  const { port, closes } = await engine(t);
  const good = await client(t, '127.0.0.1', port);
  good.s.write(options('127.0.0.1', good.s.localPort!, 'z9hG4bKg1'));
  await until(() => good.got().includes('\r\n\r\n'), 'an answer to the trusted OPTIONS');
  assert.doesNotMatch(good.got(), /^SIP\/2\.0 403 /);
  await new Promise((r) => setTimeout(r, UNUSED_MS * 2));
  assert.equal(good.s.destroyed, false, 'still open past the unused timeout');
  assert.equal(closes.has(good.key), false);
  await until(() => closes.has(good.key), 'the idle close');
  assert.equal(closes.get(good.key), 'idle timeout');
});
