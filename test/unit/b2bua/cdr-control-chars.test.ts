// A caller's number is its From URI's user, percent-decoded: `%00` and `%1b[2J` decode to NUL and ESC. The CDR
// (log line and sink) and the call list keep it bounded and without control characters (src/common/printable.ts);
// the B leg still presents the number as the caller sent it (caller-id.ts percent-encodes it again).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActiveCalls, buildPipeline, type CdrRecord } from '../../../src/b2bua/index.js';
import { MAX_KEPT_CHARS } from '../../../src/common/printable.js';
import { settle, sipError } from './fake-srf.js';
import { deps, FakeDialog, FakeRes, fakeInvite, run, ScriptedSrf } from './pipeline-fakes.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function call(from: string, uri?: string) {
  const d = deps();
  const srf = new ScriptedSrf();
  const active = new ActiveCalls({ clock: d.clock });
  const sunk: CdrRecord[] = [];
  const steps = buildPipeline({ ...d.deps, srf, active, onCdr: (r) => sunk.push(r) });
  const req = fakeInvite({ headers: { From: `${from};tag=a1`, To: '<sip:2125551234@gw.example.com>' }, ...(uri !== undefined ? { uri } : {}) });
  run(steps, req, new FakeRes());
  const cdr = (): CdrRecord => {
    const logged = d.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as CdrRecord);
    assert.equal(logged.length, 1, 'one cdr line per call');
    assert.deepEqual(sunk, logged, 'the sink got the record the log line has');
    return logged[0]!;
  };
  return { srf, active, cdr };
}

test('From <sip:5551234%00%1b[2J@x>: the CDR and the call list hold 5551234??[2J; the B leg presents 5551234%00%1B%5B2J', async () => {
  const c = call('<sip:5551234%00%1b[2J@x>');
  const a = await c.srf.attempt(0);
  assert.equal((a.opts.headers as Record<string, string>).From, '<sip:5551234%00%1B%5B2J@localhost>', 'the B leg as before');
  const ringing = c.active.list(10).calls[0];
  assert.deepEqual([ringing?.state, ringing?.callingNumber], ['ringing', '5551234??[2J'], 'the ringing row too');
  const uas = new FakeDialog();
  a.resolve({ uas, uac: new FakeDialog() });
  await settle();
  const row = c.active.list(10).calls[0];
  assert.equal(row?.state, 'connected');
  assert.equal(row?.callingNumber, '5551234??[2J');
  uas.connected = false;
  uas.emit('destroy');
  await settle();
  const r = c.cdr();
  assert.equal(r.status, 200);
  assert.equal(r.callingNumber, '5551234??[2J');
  assert.equal(r.calledNumber, '2125551234');
  for (const v of [r.callId, r.callingNumber, r.calledNumber]) assert.ok(v !== null && !CONTROL.test(v), JSON.stringify(v));
});

test(`an 8 KiB From user and Request-URI user: the CDR keeps ${MAX_KEPT_CHARS} characters of each, none a control character`, async () => {
  const c = call(`<sip:555${'%1b'.repeat(2_700)}@x>`, `sip:8${'0'.repeat(8_000)}@gw.example.com`);
  const a = await c.srf.attempt(0);
  a.reject(sipError(486));
  await settle();
  const r = c.cdr();
  assert.equal(r.status, 486);
  assert.equal(r.callingNumber, `555${'?'.repeat(MAX_KEPT_CHARS - 3)}`);
  assert.equal(r.calledNumber, `8${'0'.repeat(MAX_KEPT_CHARS - 1)}`);
});
