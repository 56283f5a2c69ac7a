import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { test } from 'node:test';
import type { B2buaPolicy, ResolvedTarget, SipServerResolver } from '../../../../src/b2bua/index.js';
import { refusedAddress } from '../../../../src/b2bua/middleware/resolve-target.js';
import { sipError } from '../fake-srf.js';
import { policy } from '../pipeline-fakes.js';
import { offer, start } from './place-call-rig.js';

/** pbx calls +44… on itsp, a dns: name, then (when `backup`) on backup at 192.0.2.10:5060. */
function itsp(extra: Partial<B2buaPolicy> = {}, backup = false): B2buaPolicy {
  return {
    ...policy,
    tenants: { ...policy.tenants, itsp: { transport: 'udp', sipServer: 'dns:carrier.example' } },
    dialPeers: [
      { id: 'itsp', destinationPattern: '^\\+', tenant: 'itsp' },
      ...(backup ? [{ id: 'backup', destinationPattern: '^\\+', tenant: 'backup' }] : []),
    ],
    ...extra,
  };
}

const answering = (...addresses: string[]): SipServerResolver => async () => ({
  ok: true, targets: addresses.map((address): ResolvedTarget => ({ address, port: 5060, transport: 'udp', domain: 'carrier.example' })),
});

const codes = (lines: Array<Record<string, unknown>>) => lines.map((l) => l.code).filter((c) => c !== undefined);

test('outbound: a DNS answer naming loopback or the metadata service is no target: refused, counted, logged; the private address is called', async () => {
  const s = start('+442071234567', 'pbx', offer, { resolve: answering('127.0.0.1', '169.254.169.254', '10.0.0.1') }, itsp());
  const a = await s.srf.attempt(0);
  assert.equal(a.uri, 'sip:+442071234567@10.0.0.1:5060');
  assert.equal(s.stats.outbound.resolvedRefused, 2);
  assert.deepEqual(s.stats.snapshot().outbound?.resolvedRefused, 2);
  const refused = s.lines.filter((l) => l.code === 'ERR_B2BUA_TARGET_REFUSED');
  assert.deepEqual(refused.map((l) => l.address), ['127.0.0.1', '169.254.169.254']);
  a.reject(sipError(503));
  await new Promise<void>((ok) => setImmediate(ok));
  assert.equal(s.srf.attempts.length, 1, 'nothing else was tried');
});

test('outbound: gateway.outbound.allowResolved lets an operator call a loopback answer knowingly; the rest stays refused', async () => {
  const p = itsp({ outbound: { allowResolved: ['127.0.0.0/8'] } });
  const s = start('+442071234567', 'pbx', offer, { resolve: answering('127.0.0.2', '169.254.169.254') }, p);
  assert.equal((await s.srf.attempt(0)).uri, 'sip:+442071234567@127.0.0.2:5060');
  assert.equal(s.stats.outbound.resolvedRefused, 1);
});

test('outbound: a name that resolves only to refused addresses fails over to the next dial peer, else 503 with a Reason', async () => {
  const withBackup = start('+442071234567', 'pbx', offer, { resolve: answering('127.0.0.1', '::1') }, itsp({}, true));
  assert.equal((await withBackup.srf.attempt(0)).uri, 'sip:+442071234567@192.0.2.10:5060');
  assert.equal(withBackup.stats.outbound.resolvedRefused, 2);

  const alone = start('+442071234567', 'pbx', offer, { resolve: answering('0.0.0.0', 'fe80::1') }, itsp());
  await new Promise<void>((ok) => setImmediate(ok));
  assert.equal(alone.srf.attempts.length, 0, 'no INVITE left the gateway');
  assert.equal(alone.res.status, 503);
  assert.match(alone.res.reasonHeader ?? '', /^SIP;cause=503;text="Trunk name resolves to no address the gateway may call: dns:carrier\.example/);
  assert.ok(codes(alone.lines).includes('ERR_B2BUA_TARGET_REFUSED'));
});

test('outbound: which resolved addresses are refused, which are kept (private ranges are where enterprise trunks live)', () => {
  const p: B2buaPolicy = { ...policy, listeners: [{ transport: 'udp', host: '198.51.100.9', port: 5060 }] };
  for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '0.0.0.0', '::', '169.254.169.254', 'fe80::1',
    '224.0.0.5', 'ff02::1', '255.255.255.255', 'fd00:ec2::254', '198.51.100.9', '::ffff:198.51.100.9']) {
    assert.ok(refusedAddress(a, p) !== undefined, `${a} refused`);
  }
  for (const a of ['10.1.2.3', '172.16.5.5', '192.168.0.1', 'fd12::1', '198.51.100.7', '2001:db8::5']) {
    assert.equal(refusedAddress(a, p), undefined, `${a} kept`);
  }
  assert.equal(refusedAddress('::ffff:127.0.0.1', { ...p, outbound: { allowResolved: ['127.0.0.1'] } }), undefined, 'allowResolved holds it');
});

test('outbound: behind a wildcard listener every address of the host is the gateway\'s own', (t) => {
  const own = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((i) => !i.internal && i.family === 'IPv4')?.address;
  if (own === undefined) {
    t.skip('this host has no IPv4 interface besides loopback');
    return;
  }
  const wildcard: B2buaPolicy = { ...policy, listeners: [{ transport: 'udp', host: '0.0.0.0', port: 5060 }] };
  const bound: B2buaPolicy = { ...policy, listeners: [{ transport: 'udp', host: '127.0.0.1', port: 5060 }] };
  assert.match(refusedAddress(own, wildcard) ?? '', /gateway's host/);
  assert.equal(refusedAddress(own, bound), undefined, 'a listener bound to loopback does not listen there');
});
