// TLS-peer permissions with kamailio (tls.so) as the carrier SBC, mutual TLS to the gateway:
//   sipp UAC (UDP) → kamailio → TLS → gateway (engine + b2bua policy pipeline) → UDP → sipp UAS.
// kamailio's certificate identity (dns:sbc.carrier.test) is a TLS peer without `international`; the carrier
// tenant's default allows it, so an unknown identity is allowed international calls, with the warning.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { startB2bua, type B2buaApp, type B2buaPolicy } from '../../../src/b2bua/index.js';
import { startEngine } from '../../../src/engine/index.js';
import { kamailioVersion, startKamailio } from '../../support/kamailio.js';
import { runSipp, startSippUas } from '../../support/sipp.js';
import { createTestCa, type TestCa } from '../../support/test-certs.js';

const SPOOF = 'X-Trunkgate-Peer: tenant=carrier;verified=1;transport=tls;identities="dns:spoof.example"';

interface Rig {
  b2bua: B2buaApp;
  kamUdpPort: number;
  warnings: string[];
  cdrs: Array<Record<string, unknown>>;
}

async function rig(t: TestContext, o: { carrierCn: string; spoof?: boolean }): Promise<Rig> {
  const gatewayCa: TestCa = await createTestCa({ cn: 'trunkgate gateway CA' });
  t.after(() => gatewayCa.cleanup());
  const carrierCa: TestCa = await createTestCa({ cn: 'carrier SBC CA' });
  t.after(() => carrierCa.cleanup());
  const gwCert = await gatewayCa.issue({ cn: 'gw.trunkgate.test', sans: ['DNS:gw.trunkgate.test', 'IP:127.0.0.1'] });
  const carrier = await carrierCa.issue({ cn: o.carrierCn, sans: [`DNS:${o.carrierCn}`] });

  const uas = await startSippUas({ scenario: { file: 'uas-call.xml' } });
  t.after(() => uas.stop());
  const secret = 'kamailio-permissions-secret';
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }, {
      transport: 'tls', host: '127.0.0.1', port: 0, tenant: 'carrier',
      tls: { key: gwCert.key, cert: gwCert.cert, ca: carrierCa.cert, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    }],
    control: { host: '127.0.0.1', port: 0, secret },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const tlsPort = addrs.sip.find((l) => l.protocol === 'tls')!.port;

  const policy: B2buaPolicy = {
    tenants: {
      carrier: { transport: 'tls', defaultPermissions: { international: true } },
      pbx: { transport: 'udp', sipServer: `127.0.0.1:${uas.port}` },
    },
    listeners: [{ transport: 'tls', host: '127.0.0.1', port: tlsPort, tenant: 'carrier' }],
    categories: [
      { name: 'international', order: 30, default: false, patterns: ['^011\\d{4,}$', '^\\+(?!1)\\d{4,}$'] },
      { name: 'local', order: 60, default: true, patterns: ['^[2-9]\\d{2}[2-9]\\d{6}$', '^[2-9]\\d{6}$'] },
    ],
    tlsPeers: {
      'sbc.carrier.test': { permissions: { international: false } },
      // What a forged header claims; it would allow international if it were believed.
      'spoof.example': { permissions: { international: true } },
    },
    dialPeers: [{ id: 'to-pbx', destinationPattern: '.', tenant: 'pbx', from: ['carrier'] }],
  };
  const warnings: string[] = [];
  const cdrs: Array<Record<string, unknown>> = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) {
        if (!l) continue;
        const j = JSON.parse(l) as { level?: number; msg?: string; cdr?: Record<string, unknown> };
        if ((j.level ?? 0) >= 40 && j.msg) warnings.push(j.msg);
        if (j.msg === 'cdr' && j.cdr) cdrs.push(j.cdr);
      }
      cb();
    },
  });
  const b2bua = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret }, policy, log: pino({ level: 'info' }, dest) });
  t.after(() => b2bua.close());

  const kam = await startKamailio({
    listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
    tls: {
      certificate: carrier.cert, privateKey: carrier.key, caList: gatewayCa.cert,
      destinations: [{ host: '127.0.0.1', port: tlsPort, serverName: 'gw.trunkgate.test' }],
    },
    route: { kind: 'relay', target: { host: '127.0.0.1', port: tlsPort, transport: 'tls' }, ...(o.spoof ? { appendHeaders: [SPOOF] } : {}) },
  });
  t.after(() => kam.stop());
  return { b2bua, kamUdpPort: kam.port('udp'), warnings, cdrs };
}

/** One call from sipp through kamailio; the final status the caller got (sipp's uac-call fails on anything but 200). */
async function call(r: Rig, number: string): Promise<{ ok: boolean; cdr: Record<string, unknown> | undefined; sipp: string }> {
  const res = await runSipp({ scenario: { file: 'uac-call.xml' }, remote: `127.0.0.1:${r.kamUdpPort}`, service: number, calls: 1, timeoutSec: 15 });
  for (let i = 0; i < 100 && !r.cdrs.some((c) => c.calledNumber === number); i++) await new Promise((ok) => setTimeout(ok, 25));
  return {
    ok: res.exitCode === 0 && res.stats.successful === 1, cdr: r.cdrs.find((c) => c.calledNumber === number),
    sipp: `sipp exit ${res.exitCode}, ${JSON.stringify(res.stats.raw).slice(0, 600)}; ${res.errors.slice(0, 600)}`,
  };
}

test(`kamailio (${kamailioVersion()}) as a TLS peer without international: local 200`, async (t) => {
  const r = await rig(t, { carrierCn: 'sbc.carrier.test' });
  const local = await call(r, '2125551234');
  assert.ok(local.ok, JSON.stringify(local.cdr));
  assert.equal(local.cdr?.status, 200);
  assert.equal(local.cdr?.tenantIn, 'carrier');
  assert.equal(local.cdr?.tlsPeer, 'sbc.carrier.test', 'the engine passed the verified certificate identity');
});

test('kamailio as a TLS peer without international: an international number gets 403 naming the category', async (t) => {
  const r = await rig(t, { carrierCn: 'sbc.carrier.test' });
  const intl = await call(r, '+442071234567');
  assert.equal(intl.ok, false);
  assert.equal(intl.cdr?.status, 403, `no CDR of a 403: ${intl.sipp}`);
  assert.equal(intl.cdr?.cause, 'denied:international');
  assert.equal(intl.cdr?.tlsPeer, 'sbc.carrier.test');
  assert.deepEqual(r.b2bua.stats().policy?.deniedByCategory, { international: 1 });
});

test('kamailio with an identity no TLS peer names: the tenant default (international allowed) and the warning', async (t) => {
  const r = await rig(t, { carrierCn: 'other.carrier.test' });
  const intl = await call(r, '+442071234567');
  assert.ok(intl.ok, JSON.stringify(intl.cdr));
  assert.ok(r.warnings.some((w) => w.startsWith('No matching TLS Peer found for') && w.includes('other.carrier.test')), r.warnings.join('\n'));
  assert.equal(r.b2bua.stats().policy?.unknownPeerAllowed, 1);
});

test('a spoofed X-Trunkgate-Peer sent by kamailio is ignored: its identity does not unlock international', async (t) => {
  const r = await rig(t, { carrierCn: 'sbc.carrier.test', spoof: true });
  const intl = await call(r, '+442071234567');
  assert.equal(intl.ok, false);
  assert.equal(intl.cdr?.status, 403, `no CDR of a 403: ${intl.sipp}`);
  assert.equal(intl.cdr?.tlsPeer, 'sbc.carrier.test', 'the identity is the certificate\'s, not the header\'s');
});
