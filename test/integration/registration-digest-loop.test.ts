// A registrar that sends a provisional and then a new 401 to every REGISTER carrying credentials. drachtio-srf's
// guard (one challenge per Call-ID, cleared by the first answer to the retry) let the 1xx clear it, and a
// registration kept its Call-ID: the gateway answered each 401 again, a thousand REGISTERs a second, past its
// timeout and reloads. The credentials go once a REGISTER (digest-answer.ts `challengeJudge`): the second 401 is
// the final answer, the trunk has failed and waits out its back-off.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import type { RegistrationStatus } from '../../src/b2bua/registrations.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, header, ua } from '../support/mini-ua.js';

for (const provisional of ['182 Queued', '183 Session Progress']) {
  test(`registration: a registrar that sends ${provisional} then 401 to the REGISTER with credentials gets two REGISTERs, then the back-off`, async (t) => {
    const registers: string[] = [];
    let n = 0;
    const reg = await ua(t, (msg, u, from) => {
      if (!msg.startsWith('REGISTER ')) return;
      registers.push(msg);
      if (header(msg, 'Authorization') !== '') u.send(answer(msg, provisional, u.port), from);
      u.send(answer(msg, '401 Unauthorized', u.port).replace('Content-Length: 0', `WWW-Authenticate: Digest realm="carrier.test", nonce="n${++n}", algorithm=MD5\r\nContent-Length: 0`), from);
    });
    const engine = await startEngine({ listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'carrier' }], control: { host: '127.0.0.1', port: 0, secret: 's' } });
    t.after(() => engine.close());
    const addrs = engine.addresses()!;
    const policy = {
      tenants: {
        carrier: { transport: 'udp', sipServer: `127.0.0.1:${reg.port}`,
          register: { registrar: `127.0.0.1:${reg.port}`, username: 'u1', password: 'wrong', realm: 'carrier.test', expires: 600, contactUser: 'u1', retrySeconds: { min: 30, max: 60 }, probeSeconds: 0 } },
      },
      listeners: [{ transport: 'udp', host: '127.0.0.1', port: addrs.sip[0]!.port, tenant: 'carrier' }],
      categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
      tlsPeers: {}, dialPeers: [],
    } as unknown as B2buaPolicy;
    const { log, records } = captureLog();
    const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 's' }, policy, log });
    t.after(() => app.close());
    const status = (): RegistrationStatus | undefined => (app.stats() as { registrations?: RegistrationStatus[] }).registrations?.[0];
    // Until the attempt is over (or plainly looping): the answer decides, not the wait.
    for (let i = 0; i < 300 && status()?.state !== 'failed' && registers.length <= 20; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(registers.length <= 2, `REGISTERs sent: ${registers.length}`);
    assert.equal(registers.length, 2, 'the first and one with credentials');
    assert.notEqual(header(registers[1]!, 'Authorization'), '');
    const s = status()!;
    assert.equal(s.state, 'failed');
    assert.equal(s.lastStatus, 401, 'the second 401 is the final answer');
    assert.equal(s.registers, 1, 'one attempt; the next waits for retrySeconds.min');
    assert.ok(records.some((l) => l.code === 'ERR_B2BUA_DIGEST_CHALLENGE' && /challenged again after credentials were given/.test(String(l.msg))));
  });
}
