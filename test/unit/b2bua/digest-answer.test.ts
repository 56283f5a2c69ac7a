import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestAnswer } from '../../../src/b2bua/digest-answer.js';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { captureLog } from './fake-srf.js';

function limitedLog() {
  const { log, lines } = captureLog();
  const refusals = new RateLimitedLog(log, new ManualClock(0), { intervalMs: 10_000 });
  const coded = (code: string) => lines.filter((l) => l.code === code && (l.level as number) >= 30);
  return { log, lines, refusals, coded };
}

test('digest: 50 challenges from a realm not the tenant\'s are each refused, with one ERR_B2BUA_DIGEST_REALM line per tenant', () => {
  const l = limitedLog();
  const challenge = { statusCode: 401, get: (n: string) => (n === 'WWW-Authenticate' ? 'Digest realm="elsewhere.example", nonce="n"' : undefined) };
  const errs: Array<Error | null> = [];
  const carrier = digestAnswer({ username: 'u', password: 'p', realm: 'carrier.example' }, l.log, 'carrier', l.refusals);
  for (let i = 0; i < 50; i++) carrier(undefined, challenge, (err) => errs.push(err));
  assert.equal(errs.length, 50);
  assert.ok(errs.every((e) => e instanceof Error && /elsewhere\.example is not carrier\.example/.test(e.message)));
  assert.equal(l.coded('ERR_B2BUA_DIGEST_REALM').length, 1);
  digestAnswer({ username: 'u', password: 'p', realm: 'backup.example' }, l.log, 'backup', l.refusals)(undefined, challenge, () => undefined);
  assert.equal(l.coded('ERR_B2BUA_DIGEST_REALM').length, 2, 'another tenant has a line of its own');
  let given: string | undefined;
  carrier(undefined, { statusCode: 401, get: () => 'Digest realm="carrier.example"' }, (_e, user) => (given = user));
  assert.equal(given, 'u', 'the tenant\'s own realm still gets the credentials');
});

test('digest: without a limiter (registrations) the line still carries its code', () => {
  const { log, lines } = captureLog();
  digestAnswer({ username: 'u', password: 'p', realm: 'r' }, log, 't')(undefined, { get: () => undefined }, () => undefined);
  assert.equal(lines.filter((x) => x.code === 'ERR_B2BUA_DIGEST_REALM').length, 1);
});
