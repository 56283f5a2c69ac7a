// A registration trunk whose registrar is an IPv6 address and challenges: drachtio-srf sent its digest retry to
// `sip:` + address + `:` + port, no URI for an IPv6 address, so the trunk never registered. The gateway answers the
// challenge itself (register-send.ts), along the way the first REGISTER went; the Request-URI is the registration's
// domain when one is configured (RFC 3261 §10.2), the registrar's address reached as the outbound proxy.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { test } from 'node:test';
import { startB2bua, type B2buaPolicy } from '../../src/b2bua/index.js';
import type { RegistrationStatus } from '../../src/b2bua/registrations.js';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';
import { answer, header } from '../support/mini-ua.js';

for (const domain of [undefined, 'carrier.test']) {
  test(`registration: an IPv6 registrar that challenges is answered and registers (${domain ? `domain ${domain}` : 'no domain'})`, async (t) => {
    const s = createSocket('udp6');
    s.bind(0, '::1');
    await once(s, 'listening');
    t.after(() => s.close());
    const port = s.address().port;
    const seen: string[] = [];
    s.on('message', (buf, rinfo) => {
      const msg = buf.toString();
      if (!msg.startsWith('REGISTER ')) return;
      seen.push(msg);
      const out = header(msg, 'Authorization') === ''
        ? answer(msg, '401 Unauthorized', port).replace('Content-Length: 0', 'WWW-Authenticate: Digest realm="r", nonce="n1"\r\nContent-Length: 0')
        : answer(msg, '200 OK', port).replace('Content-Length: 0', 'Expires: 600\r\nContent-Length: 0');
      s.send(Buffer.from(out), rinfo.port, rinfo.address);
    });
    const engine = await startEngine({ listen: [{ transport: 'udp', host: '::1', port: 0, tenant: 'carrier' }], control: { host: '127.0.0.1', port: 0, secret: 's' } });
    t.after(() => engine.close());
    const addrs = engine.addresses()!;
    const register = { registrar: `[::1]:${port}`, username: 'u1', password: 'pw', realm: 'r', expires: 600, contactUser: 'u1', retrySeconds: { min: 30, max: 60 }, probeSeconds: 0, ...(domain ? { domain } : {}) };
    const policy = {
      tenants: { carrier: { transport: 'udp', sipServer: `[::1]:${port}`, register } },
      listeners: [{ transport: 'udp', host: '::1', port: addrs.sip[0]!.port, tenant: 'carrier' }],
      categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }], tlsPeers: {}, dialPeers: [],
    } as unknown as B2buaPolicy;
    const { log } = captureLog();
    const app = await startB2bua({ engine: { host: addrs.control.host, port: addrs.control.port, secret: 's' }, policy, log });
    t.after(() => app.close());
    const status = (): RegistrationStatus | undefined => (app.stats() as { registrations?: RegistrationStatus[] }).registrations?.[0];
    // Until a final answer other than the challenge (bounded): the answers decide, not the wait.
    for (let i = 0; i < 200 && (status()?.lastStatus ?? 401) === 401; i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(seen.length, 2, 'the REGISTER and the one with credentials, both at the registrar');
    const ruri = domain ? `sip:${domain}` : `sip:[::1]:${port}`;
    assert.deepEqual(seen.map((m) => m.split('\r\n')[0]), [`REGISTER ${ruri} SIP/2.0`, `REGISTER ${ruri} SIP/2.0`]);
    assert.match(header(seen[1]!, 'Authorization'), new RegExp(`^Digest username="u1", realm="r", nonce="n1", uri="${ruri.replace(/[[\]]/g, '\\$&')}", `));
    assert.equal(header(seen[1]!, 'Call-ID'), header(seen[0]!, 'Call-ID'));
    assert.equal(status()?.state, 'registered');
    assert.equal(status()?.lastStatus, 200);
  });
}
