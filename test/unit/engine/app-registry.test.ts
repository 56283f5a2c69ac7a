import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppRegistry, type AppEndpoint } from '../../../src/engine/index.js';

function app(connId: string, tags: string[] = []): AppEndpoint & { sent: string[] } {
  const sent: string[] = [];
  return { connId, tags, sent, send: (p) => void sent.push(p) };
}

function registry() {
  let n = 0;
  return new AppRegistry({ newMsgId: () => `m${++n}`, now: () => new Date(Date.UTC(2026, 0, 1, 12, 0, 0, 500)) });
}

test('selectApp: round robin among the apps that routed the method, case-insensitive', () => {
  const r = registry();
  for (const id of ['a', 'b', 'c']) r.add(app(id));
  r.addRoute('a', 'invite');
  r.addRoute('b', 'INVITE');
  r.addRoute('c', 'options');
  assert.deepEqual([1, 2, 3, 4].map(() => r.selectApp('INVITE')), ['a', 'b', 'a', 'b']);
  assert.equal(r.selectApp('options'), 'c');
  assert.equal(r.selectApp('register'), undefined);
});

test('selectApp passes over a backed-up app while another can take the request; all backed up: the turn\'s app', () => {
  const r = registry();
  const slow = new Set<string>(['b']);
  for (const id of ['a', 'b', 'c']) {
    r.add({ ...app(id), backlogged: () => slow.has(id) });
    r.addRoute(id, 'invite');
  }
  const six = [1, 2, 3, 4, 5, 6].map(() => r.selectApp('INVITE'));
  assert.equal(six.includes('b'), false);
  assert.deepEqual(new Set(six), new Set(['a', 'c']));
  slow.clear();
  assert.ok([1, 2, 3].map(() => r.selectApp('invite')).includes('b'), 'a caught-up app gets its turns again');
  for (const id of ['a', 'b', 'c']) slow.add(id);
  const picked = r.selectApp('invite');
  assert.ok(picked !== undefined && ['a', 'b', 'c'].includes(picked));
  assert.equal(r.backlogged(picked), true);
});

test('routing the same verb twice adds no second entry', () => {
  const r = registry();
  r.add(app('a'));
  r.add(app('b'));
  r.addRoute('a', 'invite');
  r.addRoute('a', 'invite');
  r.addRoute('b', 'invite');
  assert.deepEqual([1, 2, 3, 4].map(() => r.selectApp('invite')), ['a', 'b', 'a', 'b']);
});

test('remove_route removes only the named verb', () => {
  const r = registry();
  r.add(app('a'));
  r.addRoute('a', 'invite');
  r.addRoute('a', 'options');
  r.removeRoute('a', 'INVITE');
  assert.equal(r.selectApp('invite'), undefined);
  assert.equal(r.selectApp('options'), 'a');
  assert.deepEqual(r.routesOf('a'), ['options']);
});

test('remove drops the app and all of its routes; others keep serving', () => {
  const r = registry();
  r.add(app('a'));
  r.add(app('b'));
  r.addRoute('a', 'invite');
  r.addRoute('b', 'invite');
  assert.equal(r.remove('a'), true);
  assert.equal(r.remove('a'), false);
  assert.equal(r.isConnected('a'), false);
  assert.deepEqual([1, 2, 3].map(() => r.selectApp('invite')), ['b', 'b', 'b']);
});

test('routes of an unknown connId are ignored', () => {
  const r = registry();
  r.addRoute('ghost', 'invite');
  assert.equal(r.selectApp('invite'), undefined);
});

test('sendSip frames with the positional meta, a default time, to the named app only', () => {
  const r = registry();
  const a = app('a');
  const b = app('b');
  r.add(a);
  r.add(b);
  r.sendSip('a', { source: 'network', protocol: 'udp', address: '127.0.0.1', port: 5090, transactionId: 't1', dialogId: '' }, 'OPTIONS sip:x SIP/2.0\r\n\r\n');
  assert.equal(b.sent.length, 0);
  assert.deepEqual(a.sent, ['m1|sip|network|25|udp|127.0.0.1|5090|12:00:00.500000|t1||\r\nOPTIONS sip:x SIP/2.0\r\n\r\n']);
});

test('reply keys the response by the app msgId; frames to a gone app are dropped', () => {
  const r = registry();
  const a = app('a');
  r.add(a);
  r.reply('a', 'app-7', ['OK', 'application'], 'SIP/2.0 200 OK\r\n\r\n');
  assert.deepEqual(a.sent, ['m1|response|app-7|OK|application\r\nSIP/2.0 200 OK\r\n\r\n']);
  r.remove('a');
  r.reply('a', 'app-8', ['OK']);
  assert.equal(a.sent.length, 1);
});

test('CDRs go round robin among the apps that routed that cdr verb only', () => {
  const r = registry();
  const a = app('a');
  const b = app('b');
  const c = app('c');
  for (const x of [a, b, c]) r.add(x);
  r.addRoute('a', 'cdr:stop');
  r.addRoute('b', 'cdr:stop');
  r.addRoute('c', 'cdr:start');
  r.sendCdr('stop', ['network', 't', 'normal-release'], 'BYE sip:x SIP/2.0\r\n\r\n');
  r.sendCdr('stop', ['network', 't', 'normal-release'], 'BYE sip:x SIP/2.0\r\n\r\n');
  r.sendCdr('attempt', ['network', 't'], 'INVITE sip:x SIP/2.0\r\n\r\n');
  assert.equal(a.sent.length, 1);
  assert.equal(b.sent.length, 1);
  assert.equal(c.sent.length, 0);
  assert.ok(a.sent[0]!.startsWith('m1|cdr:stop|network|t|normal-release\r\nBYE'));
});

test('wantsCdr says whether any app routed that cdr verb, so the core can skip building the text', () => {
  const r = registry();
  r.add(app('a'));
  assert.equal(r.wantsCdr('stop'), false);
  r.addRoute('a', 'cdr:stop');
  assert.equal(r.wantsCdr('stop'), true);
  assert.equal(r.wantsCdr('attempt'), false);
});

test('selectAppByTag picks among connected apps carrying the tag', () => {
  const r = registry();
  r.add(app('a', ['pbx']));
  r.add(app('b', ['carrier', 'pbx']));
  r.add(app('c', ['carrier']));
  assert.deepEqual([1, 2, 3].map(() => r.selectAppByTag('pbx')), ['a', 'b', 'a']);
  assert.equal(r.selectAppByTag('none'), undefined);
  assert.deepEqual(r.tagsOf('b'), ['carrier', 'pbx']);
});
