/**
 * The records of new INVITEs the engine refuses itself reach the gateway's CDR file, with the engine in the b2bua's
 * thread and in its own worker alike: an untrusted source's 403 at the edge and the SIP core's own refusals (too many
 * hops, no Contact), each with its status, Reason, cause refused:<code>, source, listener and tenant. A request that
 * is not a new INVITE gets none; a new INVITE the parser cannot read gets its 400 and a record of it as well.
 * 127.0.0.1 is the trusted PBX, 127.0.0.2 an untrusted source.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway } from '../../../src/gateway.js';
import type { CdrRecord } from '../../../src/b2bua/cdr-record.js';
import { udpPeer, type UdpPeer } from '../../support/udp-peer.js';

async function gateway(t: TestContext, engineInWorker: boolean): Promise<{ port: number; cdrs: () => CdrRecord[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'trunkgate-refusal-cdrs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'cdr.jsonl');
  const gw = await startGateway({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'refusal-records' },
    // Nothing is let through to it in these tests: every INVITE is refused before the b2bua.
    target: '127.0.0.1:9',
    trust: { defaultTenant: 'pbx', tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.1'], hosts: [], restrictTls: false }] },
    cdr: { file: { path, rotateBytes: 10_000_000, rotateDaily: false, keep: 2 } },
    logLevel: 'silent', engineInWorker,
  });
  t.after(() => gw.close());
  const cdrs = (): CdrRecord[] => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as CdrRecord) : []);
  return { port: gw.addresses.sip[0]!.port, cdrs };
}

let n = 0;
function invite(peer: UdpPeer, host: string, o: { method?: string; extra?: string[]; contact?: boolean; garbage?: boolean } = {}): { text: string; callId: string } {
  const i = ++n;
  const method = o.method ?? 'INVITE';
  const callId = `refusal-${process.pid}-${i}`;
  const text = [`${method} sip:+1-555-0100@127.0.0.1 SIP/2.0`, `Via: SIP/2.0/UDP ${host}:${peer.port};branch=z9hG4bKrr${i}`,
    ...(o.extra ?? ['Max-Forwards: 70']), `From: "Caller" <sip:1000@${host}>;tag=f${i}`, 'To: <sip:+1-555-0100@127.0.0.1>', `Call-ID: ${callId}`,
    `CSeq: 1 ${method}`, ...(o.contact === false ? [] : [`Contact: <sip:1000@${host}:${peer.port}>`]), ...(o.garbage ? ['this is no header'] : []),
    'Content-Length: 0', '', ''].join('\r\n');
  return { text, callId };
}

async function until<T>(get: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    assert.ok(Date.now() < end, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const finalFor = (p: UdpPeer, callId: string): string | undefined => p.got.find((m) => /^SIP\/2\.0 [3-6]\d\d /.test(m) && m.includes(`Call-ID: ${callId}`));

for (const inWorker of [false, true]) {
  const where = inWorker ? 'its own worker' : 'the b2bua\'s thread';
  test(`engine in ${where}: an untrusted INVITE and the core's refusals each get a CDR with status, Reason, cause and source; the rest none`, async (t) => {
    const { port, cdrs } = await gateway(t, inWorker);
    const bad = await udpPeer(t, '127.0.0.2');
    const pbx = await udpPeer(t, '127.0.0.1');
    const untrusted = invite(bad, '127.0.0.2');
    const hops = invite(pbx, '127.0.0.1', { extra: ['Max-Forwards: 0'] });
    const noContact = invite(pbx, '127.0.0.1', { contact: false });
    const options = invite(bad, '127.0.0.2', { method: 'OPTIONS' });
    const garbage = invite(pbx, '127.0.0.1', { garbage: true });
    for (const [peer, r] of [[bad, untrusted], [pbx, hops], [pbx, noContact], [bad, options], [pbx, garbage]] as const) peer.s.send(r.text, port, '127.0.0.1');
    for (const [peer, r] of [[bad, untrusted], [pbx, hops], [pbx, noContact], [bad, options], [pbx, garbage]] as const) await until(() => finalFor(peer, r.callId), `the answer to ${r.callId}`);
    assert.match(finalFor(pbx, garbage.callId)!, /^SIP\/2\.0 400 /, 'the parser\'s 400');

    const byCall = (id: string) => cdrs().find((c) => c.callId === id);
    const seen = await until(() => (byCall(untrusted.callId) && byCall(hops.callId) && byCall(noContact.callId) ? true : undefined), 'the three CDRs');
    assert.ok(seen);
    const u = byCall(untrusted.callId)!;
    assert.deepEqual([u.status, u.cause, u.reason, u.releasedBy, u.sourceAddress, u.sourcePort, u.transportIn, u.listener, u.tenantIn],
      [403, 'refused:ERR_ENGINE_UNTRUSTED_SOURCE', 'SIP;cause=403;text="untrusted source"', 'engine', '127.0.0.2', bad.port, 'udp', `127.0.0.1:${port}`, null]);
    assert.deepEqual([u.callingNumber, u.calledNumber, u.attempts, u.targets, u.answerAt, u.setupAt === u.endAt], ['1000', '+15550100', 0, [], null, true]);
    const h = byCall(hops.callId)!;
    assert.deepEqual([h.status, h.cause, h.tenantIn, h.sourceAddress], [483, 'refused:ERR_ENGINE_TOO_MANY_HOPS', 'pbx', '127.0.0.1']);
    assert.match(h.reason!, /^SIP;cause=483;/);
    const c = byCall(noContact.callId)!;
    assert.deepEqual([c.status, c.cause, c.reason], [400, 'refused:ERR_ENGINE_BAD_CONTACT', 'SIP;cause=400;text="INVITE without Contact"']);
    // Anything refused later would have come in the same turns: a probe's record marks that the others had their chance.
    const probe = invite(bad, '127.0.0.2');
    bad.s.send(probe.text, port, '127.0.0.1');
    await until(() => byCall(probe.callId), 'the probe\'s CDR');
    assert.equal(byCall(options.callId), undefined, 'an OPTIONS is not a call');
    const g = byCall(garbage.callId);
    assert.deepEqual([g?.status, g?.cause, g?.sourceAddress], [400, 'refused:ERR_SIP_PARSE_HEADER', '127.0.0.1'], 'the parser\'s 400 to a new INVITE is a refused call');
    assert.equal(cdrs().length, 5);
  });
}
