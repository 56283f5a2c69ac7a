// SourceTrust.replace: a configuration reload puts a new plan in force without a restart. The new lists are built
// whole (names resolved first) before the swap; counters go on; the refresh timer follows the plan's host names.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { ManualClock } from '../../../src/common/clock.js';
import { silentLogger } from '../../../src/log/index.js';
import { parseMessage } from '../../../src/sip/message/index.js';
import type { SipMessage } from '../../../src/sip/message/types.js';
import type { Flow } from '../../../src/sip/transport/types.js';
import { SourceTrust, type SourceTrustOptions, type TrustedTenant } from '../../../src/engine/source-trust.js';

function invite(): SipMessage {
  const text = 'INVITE sip:1000@gw SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\nFrom: <sip:a@x>;tag=f\r\n'
    + 'To: <sip:b@y>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:a@192.0.2.1>\r\nContent-Length: 0\r\n\r\n';
  const r = parseMessage(Buffer.from(text));
  assert.ok(r.ok);
  return r.message;
}
const INVITE = invite();

function flow(remoteAddress: string): Flow {
  return { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress, remotePort: 40000, listenerId: 'udp-shared' };
}

const tenant = (name: string, sources: string[], hosts: string[] = []): TrustedTenant => ({ name, transport: 'udp', sources, hosts, restrictTls: false });
const PLAN: SourceTrustOptions = { defaultTenant: 'pbx', tenants: [tenant('pbx', ['10.1.0.0/16']), tenant('itsp', ['203.0.113.10'])] };

async function started(o: SourceTrustOptions, lookup: (h: string) => Promise<string[]> = async () => []) {
  const clock = new ManualClock(0);
  const t = new SourceTrust(o, { log: silentLogger(), clock, lookup });
  await t.start();
  return { t, clock };
}

const verdict = (t: SourceTrust, source: string): string => {
  const v = t.judge(INVITE, flow(source), undefined);
  return v.admit ? `admit ${v.tenant ?? '-'}` : v.action;
};
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('replace: a source added is admitted, a source removed is refused, and the counters go on', async () => {
  const { t } = await started(PLAN);
  assert.equal(verdict(t, '127.0.0.23'), 'reject');
  assert.equal(verdict(t, '203.0.113.10'), 'admit itsp');
  const r = await t.replace({ ...PLAN, tenants: [tenant('pbx', ['10.1.0.0/16', '127.0.0.23']), tenant('itsp', [])] });
  assert.deepEqual(r, { tenants: 2, hosts: 0, unresolved: [] });
  assert.equal(verdict(t, '127.0.0.23'), 'admit pbx', 'the address added to a tenant');
  assert.equal(verdict(t, '203.0.113.10'), 'reject', 'the address removed');
  const s = t.stats();
  assert.deepEqual([s.admitted, s.rejected], [2, 2], 'counted before and after the replace');
});

test('replace: a tenant dropped is refused, a new one admitted; the default tenant and the untrusted action change with the plan', async () => {
  const both = ['10.9.0.0/16'];
  const { t } = await started({ defaultTenant: 'a', tenants: [tenant('a', both), tenant('b', both)] });
  assert.equal(verdict(t, '10.9.1.1'), 'admit a');
  await t.replace({ defaultTenant: 'b', tenants: [tenant('a', both), tenant('b', both)] });
  assert.equal(verdict(t, '10.9.1.1'), 'admit b', 'the new default tenant is tried first');
  await t.replace({ tenants: [tenant('c', ['192.0.2.5'])], untrusted: 'drop' });
  assert.equal(verdict(t, '10.9.1.1'), 'drop', 'both tenants gone; the new action');
  assert.equal(verdict(t, '192.0.2.5'), 'admit c');
});

test('replace: the new host names are resolved before the swap; until then the whole old plan is in force', async () => {
  let answer: ((a: string[]) => void) | undefined;
  const asked: string[] = [];
  const { t } = await started(PLAN, (host) => {
    asked.push(host);
    return new Promise((ok) => (answer = ok));
  });
  const done = t.replace({ ...PLAN, tenants: [tenant('pbx', []), tenant('itsp', [], ['sbc.itsp.test'])] });
  await tick();
  assert.deepEqual(asked, ['sbc.itsp.test']);
  assert.equal(verdict(t, '10.1.2.3'), 'admit pbx', 'still the old plan while the name resolves');
  assert.equal(verdict(t, '203.0.113.77'), 'reject');
  answer!(['203.0.113.77']);
  assert.deepEqual(await done, { tenants: 2, hosts: 1, unresolved: [] });
  assert.equal(verdict(t, '203.0.113.77'), 'admit itsp', 'the resolved name, at the swap');
  assert.equal(verdict(t, '10.1.2.3'), 'reject', 'and the old sources are gone with it');
});

test('replace: a name that fails to resolve keeps the addresses it last had; a new name that fails trusts nothing yet', async () => {
  let fail = false;
  const { t } = await started({ tenants: [tenant('itsp', [], ['sbc.itsp.test'])] }, async (host) => {
    if (fail) throw new Error('SERVFAIL');
    return host === 'sbc.itsp.test' ? ['203.0.113.20'] : ['203.0.113.30'];
  });
  assert.equal(verdict(t, '203.0.113.20'), 'admit itsp');
  fail = true;
  const r = await t.replace({ tenants: [tenant('itsp', ['198.51.100.1'], ['sbc.itsp.test', 'new.itsp.test'])] });
  assert.deepEqual(r.unresolved.sort(), ['new.itsp.test', 'sbc.itsp.test']);
  assert.equal(verdict(t, '203.0.113.20'), 'admit itsp', 'the last known addresses stay');
  assert.equal(verdict(t, '203.0.113.30'), 'reject', 'never resolved: nothing to keep');
  assert.equal(verdict(t, '198.51.100.1'), 'admit itsp', 'the rest of the plan is applied');
  assert.equal(t.stats().resolveFailures, 2);
});

test('replace: a lookup that does not answer in time counts as failed and does not hold the swap', async () => {
  const clock = new ManualClock(0);
  const t = new SourceTrust(PLAN, { log: silentLogger(), clock, lookup: () => new Promise(() => undefined) });
  await t.start();
  const done = t.replace({ tenants: [tenant('itsp', ['192.0.2.8'], ['slow.itsp.test'])], resolveTimeoutMs: 2_000 });
  await tick();
  clock.advance(2_000);
  assert.deepEqual((await done).unresolved, ['slow.itsp.test']);
  assert.equal(verdict(t, '192.0.2.8'), 'admit itsp');
  t.close();
});

test('replace: the refresh timer starts when host names come, keeps running, and stops when none are left', async () => {
  let lookups = 0;
  const { t, clock } = await started(PLAN, async () => (lookups++, ['203.0.113.20']));
  assert.equal(t.refreshing, false, 'no names at start: no timer');
  assert.equal(clock.pending, 0);
  await t.replace({ ...PLAN, tenants: [tenant('itsp', [], ['sbc.itsp.test'])], refreshSeconds: 30 });
  assert.equal(lookups, 1, 'resolved once for the swap');
  assert.equal(t.refreshing, true);
  clock.advance(30_000);
  await tick();
  assert.equal(lookups, 2, 'refreshed at the new plan\'s interval');
  await t.replace({ ...PLAN, tenants: [tenant('itsp', ['203.0.113.10'], ['sbc.itsp.test'])], refreshSeconds: 30 });
  assert.equal(lookups, 3);
  assert.equal(clock.pending, 1, 'still one timer, not two');
  await t.replace(PLAN);
  assert.equal(t.refreshing, false, 'no names left: the timer stops');
  assert.equal(clock.pending, 0);
  clock.advance(600_000);
  await tick();
  assert.equal(lookups, 3);
  assert.equal(verdict(t, '203.0.113.20'), 'reject', 'the name\'s addresses went with it');
});

test('replace: a refresh under way when a plan is replaced does not put the old plan back', async () => {
  let answer: ((a: string[]) => void) | undefined;
  let n = 0;
  const { t, clock } = await started({ tenants: [tenant('itsp', [], ['sbc.itsp.test'])] }, () => (
    ++n === 1 ? Promise.resolve(['203.0.113.20']) : new Promise((ok) => (answer = ok))));
  clock.advance(60_000);
  await tick();
  assert.ok(answer, 'the refresh is waiting for its lookup');
  await t.replace({ tenants: [tenant('pbx', ['10.1.0.0/16'])] });
  answer!(['203.0.113.20']);
  await tick();
  await tick();
  assert.equal(verdict(t, '203.0.113.20'), 'reject', 'the late refresh is dropped');
  assert.equal(verdict(t, '10.1.2.3'), 'admit pbx');
  assert.equal(t.refreshing, false);
});

test('stats show the plan in force: each tenant\'s written sources and its host names\' last addresses, the default tenant first; a replace swaps it', async () => {
  const o: SourceTrustOptions = { defaultTenant: 'itsp', untrusted: 'drop', tenants: [tenant('pbx', ['10.1.0.0/16']), tenant('itsp', ['203.0.113.10'], ['sip.carrier.test'])] };
  const { t } = await started(o, async (h) => (h === 'sip.carrier.test' ? ['198.51.100.7', '198.51.100.8'] : []));
  assert.deepEqual(t.stats().plan, {
    untrusted: 'drop', defaultTenant: 'itsp',
    tenants: [
      { name: 'itsp', sources: ['203.0.113.10'], hosts: { 'sip.carrier.test': ['198.51.100.7', '198.51.100.8'] }, restrictTls: false },
      { name: 'pbx', sources: ['10.1.0.0/16'], hosts: {}, restrictTls: false },
    ],
  });
  await t.replace({ ...o, untrusted: undefined, tenants: [tenant('pbx', ['10.1.0.0/16', '127.0.0.23'])] });
  assert.deepEqual(t.stats().plan, {
    untrusted: 'reject', defaultTenant: 'itsp', tenants: [{ name: 'pbx', sources: ['10.1.0.0/16', '127.0.0.23'], hosts: {}, restrictTls: false }],
  });
  t.close();
});
