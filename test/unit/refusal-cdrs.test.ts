// The engine's record of a refused INVITE as the gateway writes it: a CdrRecord with every field a b2bua record has
// (null or empty where nothing applies), cause refused:<code>, released by the engine; to the `cdr` log line and the
// sink, which may throw without costing the log line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { buildCdr } from '../../src/b2bua/cdr.js';
import type { RefusalRecord } from '../../src/engine/refusal-record.js';
import { refusalCdr, refusalCdrWriter } from '../../src/refusal-cdrs.js';
import type { CdrRecord } from '../../src/b2bua/cdr-record.js';

const record: RefusalRecord = {
  time: 1_700_000_000_000, callId: 'c1@pbx', callingNumber: '1000', calledNumber: '+44 (20) 7946-0000', sourceAddress: '192.0.2.7',
  sourcePort: 5070, transport: 'udp', listener: '127.0.0.1:5060', tenant: null, status: 403,
  reason: 'SIP;cause=403;text="untrusted source"', code: 'ERR_ENGINE_UNTRUSTED_SOURCE',
};

test('a refusal record becomes a full CDR: the b2bua\'s every field, the refusal\'s status, Reason and code, no B leg', () => {
  const cdr = refusalCdr(record);
  // The shape a consumer relies on: the same keys as a record the b2bua builds.
  const b2bua = buildCdr({ callId: 'x', startedAt: 0, identities: [] }, { status: 500, cause: 'x', endAt: 0 });
  assert.deepEqual(Object.keys(cdr).sort(), Object.keys(b2bua).sort());
  assert.match(cdr.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual({ ...cdr, id: undefined }, {
    id: undefined, callId: 'c1@pbx', callingNumber: '1000', calledNumber: '+442079460000', sourceAddress: '192.0.2.7', sourcePort: 5070,
    transportIn: 'udp', listener: '127.0.0.1:5060', tenantIn: null, identities: [], identityOrigin: null, peerIdentity: null, tlsPeer: null,
    tlsVersion: null, tlsCipher: null, category: null, dialPeer: null, tenantOut: null, transportOut: null, destination: null,
    tlsVersionOut: null, tlsCipherOut: null, identitiesOut: [], attempts: 0, targets: [], setupAt: 1_700_000_000_000, answerAt: null,
    endAt: 1_700_000_000_000, setupMs: 0, durationMs: 0, status: 403, cause: 'refused:ERR_ENGINE_UNTRUSTED_SOURCE', releasedBy: 'engine',
    reason: 'SIP;cause=403;text="untrusted source"', reasonIn: 'SIP;cause=403;text="untrusted source"', reasonOut: null, byeFailed: 0,
  } satisfies Record<Exclude<keyof CdrRecord, 'media'>, unknown>);
  assert.notEqual(refusalCdr(record).id, cdr.id, 'each record its own id');
  assert.deepEqual([refusalCdr({ ...record, callId: null, calledNumber: null }).callId, refusalCdr({ ...record, calledNumber: null }).calledNumber], ['', null]);
});

test('the writer puts each record in a `cdr` log line and the sink; a sink that throws loses only its own copy', () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
  const written: CdrRecord[] = [];
  refusalCdrWriter(log, { write: (c) => void written.push(c) })([record, { ...record, callId: 'c2@pbx' }]);
  assert.deepEqual(written.map((c) => c.callId), ['c1@pbx', 'c2@pbx']);
  assert.deepEqual(lines.filter((l) => l['msg'] === 'cdr').map((l) => (l['cdr'] as CdrRecord).id), written.map((c) => c.id));
  lines.length = 0;
  refusalCdrWriter(log, { write: () => { throw new Error('disk gone'); } })([record, record]);
  assert.equal(lines.filter((l) => l['msg'] === 'cdr').length, 2, 'both still logged');
  assert.equal(lines.filter((l) => l['code'] === 'ERR_B2BUA_CDR_SINK').length, 1, 'one line a minute, not one per record');
  lines.length = 0;
  refusalCdrWriter(log, undefined)([record]);
  assert.equal(lines.filter((l) => l['msg'] === 'cdr').length, 1, 'without a sink: the log line');
});
