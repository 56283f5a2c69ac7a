// The CDR of each way a call can end, run through the whole policy pipeline with a scripted drachtio-srf: which
// fields a billing or monitoring system gets for an answered, busy, unanswered, cancelled, refused, TLS-failed
// and timed-out call. One row per outcome; every row also checks that the sink got the record the log line has.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import {
  buildPipeline, formatPeerHeader, PipelineStats, type B2buaPolicy, type CdrRecord, type PipelineRequest, type PipelineResponse,
  type PlaceCallSrf,
} from '../../../src/b2bua/index.js';
import { ManualClock } from '../../../src/common/index.js';
import { captureLog, settle, sipError } from './fake-srf.js';
import { categories, FakeDialog, FakeRes } from './pipeline-fakes.js';

const T0 = 1_700_000_000_000;
const TLS_FAIL = 'SIP;cause=503;text="TLS_HANDSHAKE_FAILED unknown-ca: ERR_TLS_PEER_UNTRUSTED"';

const policy: B2buaPolicy = {
  tenants: {
    pbx: { transport: 'udp', sipServer: '192.0.2.20:5060', defaultPermissions: { international: true, tollFree: false } },
    carrier: { transport: 'tls', url: 'sips', tlsProfile: 'carrier-tls', sipServer: 'sbc1.carrier.example:5061', unknownPeer: 'reject' },
    slow: { transport: 'udp', sipServer: '192.0.2.30:5060' },
  },
  listeners: [
    { transport: 'udp', host: '127.0.0.1', port: 5070, tenant: 'pbx' },
    { transport: 'tls', host: '127.0.0.1', port: 5061, tenant: 'carrier' },
  ],
  categories,
  tlsPeers: { 'sbc.carrier.example': { permissions: { international: true } } },
  dialPeers: [
    { id: 'out', destinationPattern: '^\\+', tenant: 'carrier', from: ['pbx'] },
    { id: 'in', destinationPattern: '^[2-9]\\d{6}$', tenant: 'pbx', from: ['carrier'] },
    { id: 'ring', destinationPattern: '^[2-9]\\d{9}$', tenant: 'slow', noAnswerTimeoutSeconds: 20 },
  ],
};

interface Attempt {
  uri: string;
  cbRequest(err: unknown, uacReq?: unknown): void;
  resolve(legs: { uas: FakeDialog; uac: FakeDialog }): void;
  reject(err: unknown): void;
}

class ScriptedSrf implements PlaceCallSrf {
  attempts: Attempt[] = [];
  createB2BUA(_req: PipelineRequest, _res: PipelineResponse, uri: string, _opts: Record<string, unknown>,
    callbacks: { cbRequest(err: unknown, uacReq?: unknown): void }) {
    return new Promise<{ uas: FakeDialog; uac: FakeDialog }>((resolve, reject) => {
      this.attempts.push({ uri, cbRequest: callbacks.cbRequest, resolve, reject });
    });
  }
  async attempt(i: number): Promise<Attempt> {
    for (let k = 0; k < 20 && !this.attempts[i]; k++) await settle();
    const a = this.attempts[i];
    assert.ok(a, `attempt ${i} was made`);
    return a;
  }
}

/** An INVITE as drachtio-srf hands it over, from the PBX over UDP or from the carrier's SBC over TLS. */
function invite(o: { uri: string; tls?: boolean }): PipelineRequest & EventEmitter {
  const headers: Record<string, string> = {
    'Call-ID': 'call-7@pbx', From: '"Alice" <sip:1001@pbx.example;user=phone>;tag=a1', To: `<${o.uri}>`,
    'X-Trunkgate-Peer': o.tls
      ? formatPeerHeader({
        tenant: 'carrier', verified: true, transport: 'tls', identities: ['sip:sbc.carrier.example'], tlsVersion: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384',
      })
      : formatPeerHeader({ tenant: 'pbx', verified: false, transport: 'udp', identities: [] }),
  };
  const find = (n: string) => Object.keys(headers).find((k) => k.toLowerCase() === n.toLowerCase());
  return Object.assign(new EventEmitter(), {
    method: 'INVITE', uri: o.uri, protocol: o.tls ? 'tls' : 'udp', receivedOn: o.tls ? '127.0.0.1:5061' : '127.0.0.1:5070',
    source_address: o.tls ? '127.0.0.9' : '127.0.0.8', source_port: o.tls ? 40001 : 5062, msg: { headers },
    get: (n: string) => {
      const k = find(n);
      return k === undefined ? undefined : headers[k];
    },
    has: (n: string) => find(n) !== undefined,
  });
}

function call(o: { uri: string; tls?: boolean }) {
  const { log, lines } = captureLog();
  const clock = new ManualClock(T0);
  const srf = new ScriptedSrf();
  const sunk: CdrRecord[] = [];
  const steps = buildPipeline({ policy, stats: new PipelineStats(), log, clock, srf, onCdr: (r) => sunk.push(r) });
  const req = invite(o);
  const res = new FakeRes();
  let i = 0;
  const next = (err?: unknown): void => {
    if (err) throw err;
    steps[i++]?.(req, res, next);
  };
  next();
  const cdr = (): CdrRecord => {
    const logged = lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as CdrRecord);
    assert.equal(logged.length, 1, 'one cdr line per call');
    assert.deepEqual(sunk, logged, 'the sink got the record the log line has');
    return logged[0]!;
  };
  return { clock, srf, req, res, cdr };
}

/** A SipError whose response the engine made itself (Timer B, a transport or TLS failure). */
function engineAnswer(status: number, reason: string): Error {
  const headers: Record<string, string> = { reason, 'x-trunkgate-peer': `verified=0;transport=tls;origin=engine` };
  return Object.assign(sipError(status), { res: { get: (n: string) => headers[n.toLowerCase()] } });
}

/** What the PBX's calls have in common: who called, from where, over what. */
const fromPbx = {
  callId: 'call-7@pbx', callingNumber: '1001', sourceAddress: '127.0.0.8', sourcePort: 5062, transportIn: 'udp', listener: '127.0.0.1:5070',
  tenantIn: 'pbx', identities: [], peerIdentity: null, tlsPeer: null, tlsVersion: null, tlsCipher: null,
};
const pick = (r: CdrRecord, keys: readonly string[]): Record<string, unknown> =>
  Object.fromEntries(keys.map((k) => [k, (r as unknown as Record<string, unknown>)[k]]));

test('CDR, answered: the TLS caller\'s version, suite, identity and TLS peer; the B leg\'s over TLS; answer and end times; the caller hung up with its Reason', async () => {
  const c = call({ uri: 'sips:5551234@gw.example', tls: true });
  const a = await c.srf.attempt(0);
  c.clock.advance(1_500);
  const uas = new FakeDialog();
  const uac = Object.assign(new FakeDialog(), {
    res: { get: (n: string) => (n === 'X-Trunkgate-Peer' ? 'tenant=pbx;verified=1;transport=tls;tls=TLSv1.2;cipher=ECDHE-ECDSA-AES128-GCM-SHA256;identities="sip:pbx.example"' : undefined) },
  });
  a.resolve({ uas, uac });
  await settle();
  c.clock.advance(60_000);
  uas.connected = false;
  uas.emit('destroy', { get: (n: string) => (n === 'Reason' ? 'Q.850;cause=16;text="Normal call clearing"' : undefined) });
  await settle();
  const r = c.cdr();
  assert.deepEqual(pick(r, ['callingNumber', 'calledNumber', 'sourceAddress', 'sourcePort', 'transportIn', 'listener', 'tenantIn', 'identities',
    'peerIdentity', 'tlsPeer', 'tlsVersion', 'tlsCipher', 'category', 'dialPeer', 'tenantOut', 'transportOut', 'destination', 'tlsVersionOut',
    'tlsCipherOut', 'identitiesOut', 'attempts', 'setupAt', 'answerAt', 'endAt', 'setupMs', 'durationMs', 'status', 'cause', 'releasedBy',
    'reasonIn', 'reasonOut']), {
    callingNumber: '1001', calledNumber: '5551234', sourceAddress: '127.0.0.9', sourcePort: 40001, transportIn: 'tls', listener: '127.0.0.1:5061',
    tenantIn: 'carrier', identities: ['sip:sbc.carrier.example'], peerIdentity: 'sip:sbc.carrier.example', tlsPeer: 'sbc.carrier.example',
    tlsVersion: 'TLSv1.3', tlsCipher: 'TLS_AES_256_GCM_SHA384', category: 'local', dialPeer: 'in', tenantOut: 'pbx', transportOut: 'udp',
    destination: 'sip:5551234@192.0.2.20:5060', tlsVersionOut: null, tlsCipherOut: null, identitiesOut: [], attempts: 1,
    setupAt: T0, answerAt: T0 + 1_500, endAt: T0 + 61_500, setupMs: 1_500, durationMs: 60_000, status: 200, cause: 'normal', releasedBy: 'caller',
    reasonIn: 'Q.850;cause=16;text="Normal call clearing"', reasonOut: null,
  });
  assert.deepEqual(r.targets.map((t) => `${t.dialPeer} ${t.outcome} ${t.status}`), ['in answered 200']);
});

test('CDR, answered over a TLS B leg: the called side\'s TLS version, suite and verified identities', async () => {
  const c = call({ uri: 'sip:+442071234567@gw.example' });
  const a = await c.srf.attempt(0);
  const uas = new FakeDialog();
  const uac = Object.assign(new FakeDialog(), {
    res: { get: (n: string) => (n === 'X-Trunkgate-Peer' ? 'tenant=carrier;verified=1;transport=tls;tls=TLSv1.2;cipher=ECDHE-ECDSA-AES128-GCM-SHA256;identities="sip:sbc1.carrier.example,dns:sbc1.carrier.example"' : undefined) },
  });
  a.resolve({ uas, uac });
  await settle();
  uac.connected = false;
  uac.emit('destroy');
  await settle();
  const r = c.cdr();
  assert.deepEqual(pick(r, ['transportOut', 'tlsVersionOut', 'tlsCipherOut', 'identitiesOut', 'releasedBy', 'tlsVersion']), {
    transportOut: 'tls', tlsVersionOut: 'TLSv1.2', tlsCipherOut: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    identitiesOut: ['sip:sbc1.carrier.example', 'dns:sbc1.carrier.example'], releasedBy: 'callee', tlsVersion: null,
  });
});

test('CDR, busy: 486 from the called side with its Reason, released by the callee, no answer time', async () => {
  const c = call({ uri: 'sip:+442071234567@gw.example' });
  const busy = 'SIP;cause=486;text="Busy Here"';
  c.clock.advance(200);
  (await c.srf.attempt(0)).reject(Object.assign(sipError(486), { reason: 'Busy Here', res: { get: (n: string) => (n === 'Reason' ? busy : undefined) } }));
  await settle();
  const r = c.cdr();
  assert.deepEqual(pick(r, [...Object.keys(fromPbx), 'calledNumber', 'category', 'dialPeer', 'tenantOut', 'transportOut', 'destination', 'attempts',
    'answerAt', 'durationMs', 'status', 'cause', 'releasedBy', 'reason', 'reasonIn', 'reasonOut']), {
    ...fromPbx, calledNumber: '+442071234567', category: 'international', dialPeer: 'out', tenantOut: 'carrier', transportOut: 'tls',
    destination: 'sips:+442071234567@sbc1.carrier.example:5061;transport=tls', attempts: 1, answerAt: null, durationMs: 0,
    status: 486, cause: 'b-leg-486', releasedBy: 'callee', reason: busy, reasonIn: busy, reasonOut: busy,
  });
  assert.deepEqual(r.targets, [{
    dialPeer: 'out', tenant: 'carrier', transport: 'tls', uri: 'sips:+442071234567@sbc1.carrier.example:5061;transport=tls',
    outcome: 'rejected', status: 486, reason: busy, startAt: T0, endAt: T0 + 200,
  }]);
});

test('CDR, unanswered: the dial peer\'s no-answer time ran out; 408 to the caller, released by the gateway', async () => {
  const c = call({ uri: 'sip:2125551234@gw.example' });
  const a = await c.srf.attempt(0);
  let cancelled = 0;
  a.cbRequest(null, { cancel: () => cancelled++ });
  c.clock.advance(20_000);
  await settle();
  assert.equal(cancelled, 1, 'the ringing attempt was cancelled');
  const r = c.cdr();
  assert.deepEqual(pick(r, ['dialPeer', 'tenantOut', 'attempts', 'status', 'cause', 'releasedBy', 'answerAt', 'setupMs', 'reasonOut']), {
    dialPeer: 'ring', tenantOut: 'slow', attempts: 1, status: 408, cause: 'no-answer', releasedBy: 'gateway', answerAt: null, setupMs: 20_000, reasonOut: null,
  });
  assert.equal(r.reason, 'SIP;cause=408;text="No answer from dial peer ring within 20 s"');
  assert.deepEqual(r.targets.map((t) => [t.outcome, t.status, t.endAt - t.startAt]), [['no-answer', null, 20_000]]);
});

test('CDR, cancelled: the caller\'s CANCEL ends it while the B leg rings; its Reason is the A leg\'s, released by the caller', async () => {
  const c = call({ uri: 'sip:+442071234567@gw.example' });
  const a = await c.srf.attempt(0);
  // The B leg's INVITE is out and ringing: createB2BUA passes the CANCEL on, and the B leg answers 487.
  a.cbRequest(null, { cancel: () => undefined });
  c.clock.advance(4_000);
  c.req.emit('cancel', { get: (n: string) => (n === 'Reason' ? 'SIP;cause=487;text="User hung up"' : undefined) });
  c.res.send(487);
  a.reject(sipError(487));
  await settle();
  const r = c.cdr();
  assert.deepEqual(pick(r, ['status', 'cause', 'releasedBy', 'reason', 'reasonIn', 'attempts', 'setupMs']), {
    status: 487, cause: 'cancelled', releasedBy: 'caller', reason: 'SIP;cause=487;text="Request terminated: the caller cancelled"',
    reasonIn: 'SIP;cause=487;text="User hung up"', attempts: 1, setupMs: 4_000,
  });
  assert.deepEqual(r.targets.map((t) => [t.outcome, t.status]), [['cancelled', 487]]);
});

test('CDR, refused by policy: 403 with the Reason naming the category, released by the gateway, no B leg', () => {
  const c = call({ uri: 'sip:8005551234@gw.example' });
  const r = c.cdr();
  assert.equal(c.res.status, 403);
  assert.equal(c.srf.attempts.length, 0);
  assert.deepEqual(pick(r, [...Object.keys(fromPbx), 'calledNumber', 'category', 'dialPeer', 'tenantOut', 'destination', 'attempts', 'targets',
    'answerAt', 'status', 'cause', 'releasedBy', 'reasonOut']), {
    ...fromPbx, calledNumber: '8005551234', category: 'tollFree', dialPeer: null, tenantOut: null, destination: null, attempts: 0, targets: [],
    answerAt: null, status: 403, cause: 'denied:tollFree', releasedBy: 'gateway', reasonOut: null,
  });
  assert.match(r.reason!, /^SIP;cause=403;text=".*\(category tollFree: permission tollFree denied to tenant pbx\)"$/);
  assert.equal(r.reasonIn, r.reason, 'the A leg ended with our 403 and its Reason');
});

test('CDR, TLS failure towards B: the engine\'s 503 naming the handshake failure, the attempt unreachable, released by the gateway', async () => {
  const c = call({ uri: 'sip:+442071234567@gw.example' });
  (await c.srf.attempt(0)).reject(engineAnswer(503, TLS_FAIL));
  await settle();
  const r = c.cdr();
  assert.deepEqual(pick(r, ['status', 'cause', 'releasedBy', 'reason', 'reasonOut', 'transportOut', 'attempts']), {
    status: 503, cause: 'b-leg-503', releasedBy: 'gateway', reason: TLS_FAIL, reasonOut: TLS_FAIL, transportOut: 'tls', attempts: 1,
  });
  assert.deepEqual(r.targets.map((t) => [t.outcome, t.status, t.reason]), [['unreachable', 503, TLS_FAIL]]);
});

test('CDR, B-leg timeout: the engine\'s 408 after Timer B is a timeout, not the far end\'s answer; released by the gateway', async () => {
  const c = call({ uri: 'sip:+442071234567@gw.example' });
  c.clock.advance(32_000);
  const timeout = 'SIP;cause=408;text="no answer from 192.0.2.40:5061"';
  (await c.srf.attempt(0)).reject(engineAnswer(408, timeout));
  await settle();
  const r = c.cdr();
  assert.deepEqual(pick(r, ['status', 'cause', 'releasedBy', 'reasonOut', 'setupMs']), {
    status: 408, cause: 'b-leg-408', releasedBy: 'gateway', reasonOut: timeout, setupMs: 32_000,
  });
  assert.deepEqual(r.targets.map((t) => [t.outcome, t.status]), [['timeout', 408]]);
  // The same 408 from the far end itself (no origin=engine) is its answer: rejected, released by the callee.
  const far = call({ uri: 'sip:+442071234567@gw.example' });
  (await far.srf.attempt(0)).reject(sipError(408));
  await settle();
  assert.deepEqual([far.cdr().targets[0]!.outcome, far.cdr().releasedBy], ['rejected', 'callee']);
});
