// A client that resumed a TLS session must never skip the checks of the profile its SNI picks now, or the trust
// store in force now: profile listeners issue no tickets, and a resumed session is refused in any case.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:crypto';
import tls, { type SecureVersion, type TLSSocket } from 'node:tls';
import type { TLSSocket as ServerSocket } from 'node:tls';
import { EngineTls } from '../../src/engine/engine-tls.js';
import { silentLogger } from '../../src/log/index.js';
import type { InboundTlsVerdict } from '../../src/sip/transport/index.js';
import { createTestCa, requireOpenssl, type TestCa, type TestCert } from '../support/test-certs.js';
import { profile } from './engine-tls-support.js';

type Outcome = { kind: 'verdict'; v: InboundTlsVerdict; reused: boolean } | { kind: 'tlsClientError'; error: string };

let caA: TestCa;
let caB: TestCa;
let gw: TestCert;
let aSrv: TestCert;
let bSrv: TestCert;
let clientA: TestCert;

before(async () => {
  await requireOpenssl();
  caA = await createTestCa({ cn: 'CA A' });
  caB = await createTestCa({ cn: 'CA B' });
  gw = await caA.issue({ cn: 'gw.test', sans: ['DNS:gw.test'] });
  aSrv = await caA.issue({ cn: 'a.test', sans: ['DNS:a.test'] });
  bSrv = await caB.issue({ cn: 'b.test', sans: ['DNS:b.test'] });
  clientA = await caA.issue({ cn: 'pbx-a.test', sans: ['DNS:pbx-a.test'] });
});
after(async () => {
  await caA?.cleanup();
  await caB?.cleanup();
});

function profiles() {
  return [
    // The default profile (tenant C) trusts CA B only: client A proves itself to tenant A's profile alone.
    profile({ name: 'def', tenant: 'C', requireClientCertificate: true }, caA, gw, [caB]),
    profile({ name: 'pa', tenant: 'A', serverNames: ['a.test'], requireClientCertificate: true }, caA, aSrv, [caA]),
    profile({ name: 'pb', tenant: 'B', serverNames: ['b.test'], requireClientCertificate: true }, caB, bSrv, [caB]),
  ];
}

/** A shared listener (def, pa, pb) whose every connection ends in one outcome, read in order. */
async function sharedListener(refuseUnknownSni: boolean) {
  const et = new EngineTls({ profiles: profiles() }, silentLogger());
  const l = et.listener({ id: 'x', tlsProfile: 'def', sniProfiles: ['def', 'pa', 'pb'], refuseUnknownSni });
  const outcomes: Outcome[] = [];
  const waiting: ((o: Outcome) => void)[] = [];
  const push = (o: Outcome): void => {
    const w = waiting.shift();
    if (w) w(o);
    else outcomes.push(o);
  };
  const srv = tls.createServer(l.tls, (s: ServerSocket) => {
    push({ kind: 'verdict', v: l.checkInbound(s), reused: s.isSessionReused() });
    // A byte of data makes OpenSSL send what the handshake left (a TLS 1.3 ticket) before close_notify.
    s.end('\r\n');
  });
  srv.on('tlsClientError', (e: Error, s: ServerSocket) => {
    push({ kind: 'tlsClientError', error: e.message });
    s.destroy();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const next = (): Promise<Outcome> => new Promise((r) => {
    const o = outcomes.shift();
    if (o) r(o);
    else waiting.push(r);
  });
  return { et, srv, port, next };
}

/** Connects with client A's certificate; resolves once the connection is over, with the session it was given. */
function connect(port: number, servername: string, maxVersion: SecureVersion, session?: Buffer): Promise<{ session?: Buffer; reused: boolean }> {
  return new Promise((resolve) => {
    let sess: Buffer | undefined;
    let reused = false;
    const s: TLSSocket = tls.connect({
      host: '127.0.0.1', port, servername, maxVersion, key: clientA.key, cert: clientA.cert, ca: [caA.cert, caB.cert],
      checkServerIdentity: () => undefined, ...(session ? { session } : {}),
    });
    s.on('secureConnect', () => { reused = s.isSessionReused(); });
    s.on('session', (b: Buffer) => { sess = b; });
    s.on('error', () => undefined);
    s.resume();
    s.on('close', () => resolve({ ...(sess ? { session: sess } : {}), reused }));
  });
}

/** No verdict ever authorizes tenant B (or the default) for a client that only ever proved itself to tenant A. */
function assertNotAuthorizedElsewhere(o: Outcome): void {
  if (o.kind === 'tlsClientError') return;
  assert.equal(o.reused, false, 'the server resumed a session');
  if (o.v.ok) assert.equal(o.v.profile, 'pa', `accepted as ${o.v.profile}/${o.v.tenant}`);
}

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  describe(`a session of tenant A's profile (${version})`, () => {
    test('is not resumed under an SNI of tenant B, an unknown SNI, no SNI, or its own SNI', async () => {
      const { srv, port, next } = await sharedListener(true);
      try {
        const first = connect(port, 'a.test', version);
        const o1 = await next();
        assert.equal(o1.kind, 'verdict');
        assert.ok(o1.kind === 'verdict' && o1.v.ok && o1.v.profile === 'pa' && o1.v.tenant === 'A');
        const { session } = await first;
        assert.ok(session, 'the client kept a session to offer');
        for (const sn of ['b.test', 'nope.test', '', 'a.test']) {
          const c = connect(port, sn, version, session);
          const o = await next();
          assertNotAuthorizedElsewhere(o);
          assert.equal((await c).reused, false, `resumed with SNI '${sn}'`);
        }
      } finally {
        srv.close();
      }
    });

    test('is not resumed after a TLS reload either', async () => {
      const { et, srv, port, next } = await sharedListener(false);
      try {
        const r = et.reload(profiles(), (_id, ctx, requestCert) => {
          srv.setSecureContext(ctx);
          (srv as unknown as { requestCert: boolean }).requestCert = requestCert;
        });
        assert.equal(r.ok, true);
        const first = connect(port, 'a.test', version);
        const o1 = await next();
        assert.ok(o1.kind === 'verdict' && o1.v.ok && o1.v.tenant === 'A');
        const { session } = await first;
        assert.ok(session);
        for (const sn of ['b.test', '']) {
          const c = connect(port, sn, version, session);
          assertNotAuthorizedElsewhere(await next());
          assert.equal((await c).reused, false, `resumed with SNI '${sn}' after the reload`);
        }
      } finally {
        srv.close();
      }
    });
  });
}

describe('the inbound check of a profile listener', () => {
  test('refuses a connection that resumed a session, under the profile its SNI picks', async () => {
    const { et, srv } = await sharedListener(true);
    srv.close();
    const l = et.listener({ id: 'y', tlsProfile: 'def', sniProfiles: ['def', 'pa', 'pb'] });
    const socket = { servername: 'b.test', isSessionReused: () => true, authorized: true } as unknown as TLSSocket;
    const v = l.checkInbound(socket);
    assert.equal(v.ok, false);
    assert.ok(!v.ok);
    assert.equal(v.code, 'ERR_TLS_SESSION_RESUMED');
    assert.equal(v.details?.['profile'], 'pb');
    assert.equal(v.details?.['tenant'], 'B');
    assert.equal((v.details?.['tlsFailure'] as { code: string }).code, 'ERR_TLS_SESSION_RESUMED');
  });

  test('refuses one on a single-profile listener too (a reload may have changed its trust store)', () => {
    const et = new EngineTls({ profiles: profiles() }, silentLogger());
    const l = et.listener({ id: 'z', tlsProfile: 'pa', sniProfiles: ['pa'] });
    const v = l.checkInbound({ servername: 'a.test', isSessionReused: () => true, authorized: true } as unknown as TLSSocket);
    assert.ok(!v.ok && v.code === 'ERR_TLS_SESSION_RESUMED');
  });

  test('listener options turn session tickets off', () => {
    const et = new EngineTls({ profiles: profiles() }, silentLogger());
    const shared = et.listener({ id: 's', tlsProfile: 'def', sniProfiles: ['def', 'pa', 'pb'] }).tls;
    const NO_TICKET = constants.SSL_OP_NO_TICKET;
    assert.equal((shared.secureOptions ?? 0) & NO_TICKET, NO_TICKET);
    // What a reload hands each listener (server.setSecureContext) and what an SNI picks.
    for (const p of et.store.all()) assert.equal((p.serverContextOptions.secureOptions ?? 0) & NO_TICKET, NO_TICKET, p.name);
  });
});
