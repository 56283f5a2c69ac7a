import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestAnswer, type DigestRefusalCounts } from '../../../src/b2bua/digest-answer.js';
import { Registrations, type RegisterSrf, type RegistrationSpec } from '../../../src/b2bua/registrations.js';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { captureLog } from './fake-srf.js';

type Challenge = { statusCode: number; get(n: string): string | undefined };

const challenge = (value: string, statusCode = 401): Challenge =>
  ({ statusCode, get: (n) => (n.toLowerCase() === (statusCode === 407 ? 'proxy-authenticate' : 'www-authenticate') ? value : undefined) });

function rig(realm?: string) {
  const { log, lines } = captureLog();
  const refusals = new RateLimitedLog(log, new ManualClock(0), { intervalMs: 10_000 });
  const counts: DigestRefusalCounts = { realm: 0, challenge: 0, unsupported: 0 };
  const answer = () => digestAnswer({ username: 'u', password: 'p', ...(realm !== undefined ? { realm } : {}) }, log, 'carrier', refusals, counts);
  // Each challenge here is a request's first: a judge counts the answers it gave its own request.
  const ask = (c: Challenge): string | Error => {
    let out: string | Error | undefined;
    answer()(undefined, c, (err, user) => (out = err ?? user));
    assert.ok(out !== undefined, 'the callback is called at once');
    return out;
  };
  const coded = (code: string) => lines.filter((l) => l.code === code && (l.level as number) >= 40);
  return { ask, answer, counts, coded };
}

test('digest: a second realm after the configured one, or the configured one in another parameter, gets no credentials', () => {
  const r = rig('carrier.example');
  assert.ok(r.ask(challenge('Digest realm="carrier.example", realm="evil.example", nonce="n1"')) instanceof Error);
  assert.ok(r.ask(challenge('Digest xrealm="carrier.example", realm="evil.example", nonce="n1"')) instanceof Error);
  assert.ok(r.ask(challenge('Digest realm="carrier.example", nonce="n,realm=evil.example"')) instanceof Error, 'srf would hash realm evil.example');
  assert.ok(r.ask(challenge('Digest REALM="carrier.example", realm="evil.example", nonce="n1"')) instanceof Error);
  assert.deepEqual(r.counts, { realm: 1, challenge: 3, unsupported: 0 });
  assert.equal(r.coded('ERR_B2BUA_DIGEST_CHALLENGE').length, 1, 'one line per tenant a window');
  assert.equal(r.coded('ERR_B2BUA_DIGEST_REALM').length, 1);
  assert.equal(r.coded('ERR_B2BUA_DIGEST_REALM')[0]!.realm, 'evil.example');
  assert.equal(r.ask(challenge('Digest realm="carrier.example", nonce="n1", algorithm=MD5, qop="auth"')), 'u', 'its own realm is answered');
  assert.equal(r.ask(challenge('Digest realm="carrier.example", nonce="n1"', 407)), 'u', 'a 407 is read from Proxy-Authenticate');
  assert.ok(r.ask(challenge('Digest realm="carrier.example", realm="carrier.example", nonce="n1"', 407)) instanceof Error);
});

test('digest: an algorithm or qop drachtio-srf does not compute is refused with its own code and count', () => {
  const r = rig('carrier.example');
  for (const c of ['algorithm=SHA-256', 'algorithm=MD5-sess', 'qop="auth-int"', 'qop="auth-int,auth"']) {
    assert.ok(r.ask(challenge(`Digest realm="carrier.example", nonce="n1", ${c}`)) instanceof Error, c);
  }
  assert.ok(r.ask(challenge('Basic realm="carrier.example"')) instanceof Error);
  assert.deepEqual(r.counts, { realm: 0, challenge: 0, unsupported: 5 });
  assert.equal(r.coded('ERR_B2BUA_DIGEST_UNSUPPORTED').length, 1);
});

test('digest: credentials with no realm configured answer any realm, but only a well-formed challenge', () => {
  const r = rig();
  assert.equal(r.ask(challenge('Digest realm="anywhere.example", nonce="n1"')), 'u');
  assert.ok(r.ask(challenge('Digest realm="a.example", realm="b.example", nonce="n1"')) instanceof Error);
  assert.ok(r.ask(challenge('Digest realm="a.example", nonce="n1",')) instanceof Error);
  assert.ok(r.ask({ statusCode: 401, get: () => undefined }) instanceof Error, 'no challenge at all');
  assert.deepEqual(r.counts, { realm: 0, challenge: 3, unsupported: 0 });
});

test('digest: a registration trunk refuses its registrar\'s repeated realm, with one line through the trunk\'s limiter', async () => {
  const sent: Array<{ headers: Record<string, string>; answer(c: Challenge): void }> = [];
  const srf: RegisterSrf = {
    request(_uri, opts, cb) {
      let on: ((res: { status: number; get(n: string): string | undefined }) => void) | undefined;
      sent.push({ headers: opts.headers, answer: (c) => on?.({ status: c.statusCode, get: c.get }) });
      cb(null, { on: (_e, fn) => { on = fn; } });
      return undefined;
    },
  };
  const spec: RegistrationSpec = {
    tenant: 'carrier', registrar: '127.0.0.1:5070', username: 'trunk1', password: 'pw', realm: 'carrier.test', domain: 'carrier.test',
    expires: 600, contactUser: 'trunk1', retrySeconds: { min: 5, max: 5 }, transport: 'udp', scheme: 'sip',
  };
  const { log, lines } = captureLog();
  const clock = new ManualClock(0);
  const r = new Registrations({ srf, specs: [spec], log, clock });
  r.start();
  const flush = async () => {
    for (let i = 0; i < 3; i++) await new Promise((ok) => setImmediate(ok));
  };
  await flush();
  for (let i = 0; i < 5; i++) {
    assert.equal(sent.length, i + 1, 'one REGISTER a cycle: the challenge is not answered');
    sent[i]!.answer(challenge('Digest realm="carrier.test", realm="evil.example", nonce="n1"'));
    assert.equal(r.snapshot()[0]!.lastStatus, 401);
    clock.advance(5_000);
    await flush();
  }
  assert.ok(sent.every((x) => x.headers.Authorization === undefined), 'no credentials for the evil realm');
  assert.equal(lines.filter((l) => l.code === 'ERR_B2BUA_DIGEST_CHALLENGE' && (l.level as number) >= 40).length, 1);
  sent[5]!.answer(challenge('Digest realm="carrier.test", nonce="n1"'));
  assert.match(sent[6]?.headers.Authorization ?? '', /^Digest username="trunk1", realm="carrier.test", nonce="n1", uri="sip:carrier.test", /);
  r.close();
});

test('digest: one request answers one challenge; a second is answered only when it says the nonce was stale and brings a new one', () => {
  const r = rig('carrier.example');
  const ask = (answer: ReturnType<typeof r.answer>, c: Challenge): string | Error => {
    let out: string | Error | undefined;
    answer(undefined, c, (err, user) => (out = err ?? user));
    return out!;
  };
  const one = r.answer();
  assert.equal(ask(one, challenge('Digest realm="carrier.example", nonce="n1"', 407)), 'u');
  const again = ask(one, challenge('Digest realm="carrier.example", nonce="n2"', 407));
  assert.ok(again instanceof Error && /challenged again after credentials were given/.test(again.message), 'a new nonce without stale: the credentials were refused');
  assert.ok(ask(one, challenge('Digest realm="carrier.example", nonce="n3", stale=true', 407)) instanceof Error, 'refused once, nothing more for this request');
  assert.deepEqual(r.counts, { realm: 0, challenge: 2, unsupported: 0 });
  assert.equal(r.coded('ERR_B2BUA_DIGEST_CHALLENGE').length, 1);

  const stale = r.answer();
  assert.equal(ask(stale, challenge('Digest realm="carrier.example", nonce="n1"')), 'u');
  assert.ok(ask(stale, challenge('Digest realm="carrier.example", nonce="n1", stale=TRUE')) instanceof Error, 'stale with the nonce already answered');
  const fresh = r.answer();
  assert.equal(ask(fresh, challenge('Digest realm="carrier.example", nonce="n1"')), 'u');
  assert.equal(ask(fresh, challenge('Digest realm="carrier.example", nonce="n2", stale=true')), 'u', 'stale with a new nonce: once more');
  assert.ok(ask(fresh, challenge('Digest realm="carrier.example", nonce="n3", stale=true')) instanceof Error, 'never a third time');
  assert.equal(r.counts.challenge, 4);
});
