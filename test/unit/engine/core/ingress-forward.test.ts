import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardCopy, maxForwardsOf, stampHop } from '../../../../src/engine/core/forward.js';
import { contactProblem, optionsResponse, screenRequest, stripOurRoutes } from '../../../../src/engine/core/ingress.js';
import { reasonHeader, refusalResponse } from '../../../../src/engine/core/reject.js';
import { requestUriProblem } from '../../../../src/engine/core/request-gate.js';
import { header, parseMessage, type SipRequest } from '../../../../src/sip/message/index.js';

const OURS = (uri: string) => uri.includes('gw.example');

function req(method: string, extra: string[] = [], o: { uri?: string; toTag?: string; mf?: string | null; contact?: string | null } = {}): SipRequest {
  const lines = [
    `${method} ${o.uri ?? 'sip:1000@gw.example'} SIP/2.0`, 'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1',
    ...(o.mf === null ? [] : [`Max-Forwards: ${o.mf ?? '70'}`]), 'From: <sip:a@192.0.2.1>;tag=f1',
    `To: <sip:1000@gw.example>${o.toTag ?? ''}`, 'Call-ID: c1@192.0.2.1', `CSeq: 1 ${method}`,
    ...(o.contact === null || method !== 'INVITE' ? [] : [`Contact: ${o.contact ?? '<sip:a@192.0.2.1>'}`]),
    ...extra, 'Content-Length: 0', '', '',
  ];
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  assert.ok(r.ok, lines.join('\n'));
  return r.message as SipRequest;
}
const names = (r: SipRequest) => r.headers.map((h) => h.name);
const routes = (r: SipRequest) => r.headers.filter((h) => h.name === 'route').map((h) => h.value);

test('CANCEL passes untouched, Route and all; it is hop by hop', () => {
  const r = req('CANCEL', ['Route: <sip:elsewhere.example;lr>'], { mf: '0' });
  assert.deepEqual(screenRequest(r, false, OURS), { action: 'pass', foreignRoute: false });
  assert.deepEqual(routes(r), ['<sip:elsewhere.example;lr>']);
});

test('an out-of-dialog request is checked against RFC 3261 §8.2; an in-dialog one is not', () => {
  const date = 'Date: Sat, 13 Nov 2010 23:29:00 PST';
  assert.deepEqual(screenRequest(req('INVITE', [date]), false, OURS), {
    action: 'refuse', refusal: { status: 400, phrase: 'Bad Date: not GMT' }, code: 'ERR_ENGINE_REQUEST_INVALID',
  });
  assert.equal(screenRequest(req('INVITE', [date], { toTag: ';tag=t' }), true, OURS).action, 'pass');
});

test('Max-Forwards 0: 483 for anything but ACK, and an OPTIONS to the gateway is answered here', () => {
  assert.deepEqual(screenRequest(req('INVITE', [], { mf: '0' }), false, OURS), {
    action: 'refuse', refusal: { status: 483, phrase: 'Too Many Hops', text: 'Max-Forwards reached 0' }, code: 'ERR_ENGINE_TOO_MANY_HOPS',
  });
  assert.equal(screenRequest(req('BYE', [], { mf: '0', toTag: ';tag=t' }), true, OURS).action, 'refuse');
  assert.equal(screenRequest(req('ACK', [], { mf: '0', toTag: ';tag=t' }), true, OURS).action, 'pass');
  assert.deepEqual(screenRequest(req('OPTIONS', [], { mf: '0', uri: 'sip:bob@gw.example' }), false, OURS), { action: 'options' });
  assert.deepEqual(screenRequest(req('OPTIONS', [], { uri: 'sip:gw.example' }), false, OURS), { action: 'options' }, 'no user part');
  assert.deepEqual(screenRequest(req('OPTIONS', [], { uri: 'sip:bob@gw.example' }), false, OURS), { action: 'pass', foreignRoute: false });
  assert.equal(screenRequest(req('OPTIONS', [], { mf: '0', toTag: ';tag=t' }), true, OURS).action, 'refuse', 'in a dialog it is not ours to answer');
  const unreadable = req('INVITE', [], { toTag: ';tag=t' });
  unreadable.headers.find((h) => h.name === 'max-forwards')!.value = 'abc';
  assert.equal(screenRequest(unreadable, true, OURS).action, 'pass', 'an unreadable Max-Forwards counts as none');
});

test('a new INVITE needs exactly one SIP or SIPS Contact; a re-INVITE may leave it out', () => {
  assert.deepEqual(contactProblem(req('INVITE', [], { contact: null }), false), { status: 400, phrase: 'Missing Contact', text: 'INVITE without Contact' });
  assert.equal(contactProblem(req('INVITE', [], { contact: null }), true), undefined);
  assert.deepEqual(contactProblem(req('INVITE', [], { contact: '<sip:a@h1>, <sip:b@h2>' }), false),
    { status: 400, phrase: 'Bad Contact', text: 'more than one Contact in an INVITE' });
  for (const c of ['<tel:+15551234>', '<sip:a@h1;x=y z>', '<http://x>']) {
    assert.deepEqual(contactProblem(req('INVITE', [], { contact: c }), false)?.text, 'Contact is not a SIP or SIPS URI', c);
  }
  assert.equal(contactProblem(req('INVITE', [], { contact: '"A, B" <sips:a@h1>;expires=60' }), false), undefined);
  const s = screenRequest(req('INVITE', [], { contact: '<tel:+1555>' }), false, OURS);
  assert.equal(s.action === 'refuse' && s.code, 'ERR_ENGINE_BAD_CONTACT');
});

test('our Route entries at the top are removed in place; what names another host stays and is reported', () => {
  const mine = req('BYE', ['Route: <sip:gw.example;lr>', 'Route: <sip:gw.example:5070;lr>, <sip:next.example;lr>', 'X-After: 1'], { toTag: ';tag=t' });
  assert.equal(stripOurRoutes(mine, OURS), true);
  assert.deepEqual(routes(mine), ['<sip:next.example;lr>']);
  assert.equal(names(mine).indexOf('route'), names(mine).indexOf('cseq') + 1, 'the rest stays where the Route set was');
  assert.equal(names(mine).at(-2), 'x-after');
  const all = req('BYE', ['Route: <sip:gw.example;lr>'], { toTag: ';tag=t' });
  assert.equal(stripOurRoutes(all, OURS), false);
  assert.deepEqual(routes(all), []);
  const foreign = req('INVITE', ['Route: <sip:other.example;lr>, <sip:gw.example;lr>']);
  const before = foreign.headers.slice();
  assert.equal(stripOurRoutes(foreign, OURS), true);
  assert.deepEqual(foreign.headers, before, 'nothing of ours on top: untouched');
  const none = req('INVITE');
  assert.equal(stripOurRoutes(none, () => true), false);
  assert.deepEqual(screenRequest(req('INVITE', ['Route: <sip:other.example;lr>']), false, OURS), { action: 'pass', foreignRoute: true });
});

test('OPTIONS answered by the gateway lists what it takes, with a To tag', () => {
  const res = optionsResponse(req('OPTIONS', [], { uri: 'sip:gw.example' }), 'tt1');
  const get = (n: string) => res.headers.find((h) => h.name === n)?.value;
  assert.equal(res.status, 200);
  assert.match(get('allow')!, /^INVITE, ACK, CANCEL, BYE, OPTIONS/);
  assert.equal(get('accept'), 'application/sdp');
  assert.equal(get('supported'), '100rel');
  assert.equal(get('accept-encoding'), 'identity');
  assert.match(get('to')!, /;tag=tt1$/);
});

test('maxForwardsOf reads 1 to 9 digits, trimmed; anything else is absent', () => {
  const mf = (v: string | null) => maxForwardsOf(req('BYE', [], { mf: v, toTag: ';tag=t' }));
  assert.equal(mf('70'), 70);
  assert.equal(mf('0'), 0);
  assert.equal(mf(null), undefined);
  const raw = req('BYE', [], { toTag: ';tag=t' });
  for (const v of ['7x', 'x7', '1234567890', '-1', '']) {
    raw.headers.find((h) => h.name === 'max-forwards')!.value = v;
    assert.equal(maxForwardsOf(raw), undefined, v);
  }
  raw.headers.find((h) => h.name === 'max-forwards')!.value = ' 12 ';
  assert.equal(maxForwardsOf(raw), 12);
});

test('the forwarded copy: Max-Forwards decremented once (or 70), Route kept after ours or dropped, extras replace', () => {
  const r = req('BYE', ['Route: <sip:gw.example;lr>, <sip:n1.example;lr>', 'Route: <sip:n2.example;lr>', 'X-App: old'],
    { toTag: ';tag=t', mf: '9' });
  r.headers.push(header('Max-Forwards', '5'));
  const kept = forwardCopy(r, { isOurs: OURS, keepRoutes: true, uri: 'sip:x@n1.example', extra: [header('X-App', 'new')] });
  assert.ok(kept.ok);
  assert.equal(kept.request.uri, 'sip:x@n1.example');
  assert.deepEqual(routes(kept.request), ['<sip:n1.example;lr>', '<sip:n2.example;lr>']);
  assert.deepEqual(kept.request.headers.filter((h) => h.name === 'max-forwards').map((h) => h.value), ['8']);
  assert.deepEqual(kept.request.headers.filter((h) => h.name === 'x-app').map((h) => h.value), ['new']);
  assert.equal(names(kept.request).indexOf('route'), names(r).indexOf('route'), 'Route stays in place');
  assert.equal(r.uri, 'sip:1000@gw.example', 'the original is not changed');
  const dropped = forwardCopy(r, { isOurs: OURS, keepRoutes: false });
  assert.ok(dropped.ok);
  assert.deepEqual(routes(dropped.request), []);
  assert.equal(dropped.request.uri, r.uri);
  const noMf = forwardCopy(req('BYE', [], { toTag: ';tag=t', mf: null }), { isOurs: OURS, keepRoutes: true });
  assert.ok(noMf.ok);
  assert.deepEqual(noMf.request.headers.filter((h) => h.name === 'max-forwards').map((h) => h.value), ['70']);
  const badMf = req('BYE', [], { toTag: ';tag=t' });
  badMf.headers.find((h) => h.name === 'max-forwards')!.value = 'abc';
  const bad = forwardCopy(badMf, { isOurs: OURS, keepRoutes: true });
  assert.ok(bad.ok);
  assert.deepEqual(bad.request.headers.filter((h) => h.name === 'max-forwards').map((h) => h.value), ['70']);
  assert.deepEqual(forwardCopy(req('BYE', [], { toTag: ';tag=t', mf: '0' }), { isOurs: OURS, keepRoutes: true }),
    { ok: false, refusal: { status: 483, phrase: 'Too Many Hops', text: 'Max-Forwards reached 0' } });
});

test('stampHop puts our Via on top and, when asked, our Record-Route under it', () => {
  const r = req('INVITE');
  stampHop(r, 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-me', '<sip:127.0.0.1;lr>');
  assert.deepEqual(names(r).slice(0, 3), ['via', 'record-route', 'via']);
  const q = req('INVITE');
  stampHop(q, 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-me');
  assert.deepEqual(names(q).slice(0, 2), ['via', 'via']);
});

test('a Request-URI with white space, control characters, no scheme or another scheme never goes on the wire', () => {
  assert.equal(requestUriProblem(''), 'empty Request-URI');
  for (const u of ['sip:a b@c', 'sip:a@c\r', 'sip:a@c\x7f', 'sip:a@c\t']) {
    assert.equal(requestUriProblem(u), 'Request-URI with white space or a control character', JSON.stringify(u));
  }
  assert.equal(requestUriProblem('nocolon'), 'Request-URI is not a URI: nocolon');
  assert.equal(requestUriProblem(`sip:${'a'.repeat(100)}@bad_host`), `Request-URI is not a URI: sip:${'a'.repeat(76)}`);
  for (const ok of ['sip:a@b', 'sips:a@b:5061', 'tel:+15551234567']) assert.equal(requestUriProblem(ok), undefined, ok);
});

test('a refusal carries its Reason, escaped, and Retry-After only when it has one', () => {
  assert.equal(reasonHeader(403, 'say "no"\r\nagain\\').value, 'SIP;cause=403;text="say \\"no\\" again\\\\"');
  const r = req('INVITE');
  const plain = refusalResponse(r, { status: 404, phrase: 'Not Found', text: 'no route' }, 'tg1');
  assert.equal(plain.headers.some((h) => h.name === 'retry-after'), false);
  assert.equal(plain.headers.find((h) => h.name === 'reason')?.value, 'SIP;cause=404;text="no route"');
  const busy = refusalResponse(r, { status: 503, phrase: 'Service Unavailable', text: 'busy', retryAfter: 5 }, 'tg1');
  assert.equal(busy.headers.find((h) => h.name === 'retry-after')?.value, '5');
});
