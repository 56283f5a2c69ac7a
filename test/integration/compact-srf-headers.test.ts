/**
 * End to end over UDP, through the engine to a real drachtio-srf app: a peer that writes headers in compact forms
 * drachtio-srf does not expand (`x` Session-Expires, `r` Refer-To, `b` Referred-By, `o` Event) is read by the app as
 * the engine read it, in a request and in a response (docs/control-protocol.md §2.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEngine } from '../../src/engine/index.js';
import { Peer, answer, header, srfApp, tagIn, until, type LooseReq, type LooseSrf } from './engine-relay-support.js';

const SECRET = 'compact';

interface SrfRequestApi {
  request(uri: string, opts: { method: string }, cb: (err: Error | null, req: { on(e: 'response', fn: (res: LooseReq & { status: number }) => void): void }) => void): void;
}

test('headers in compact forms drachtio-srf does not expand reach the app under their long names, in a request and a response', async (t) => {
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
  });
  t.after(() => engine.close());
  const a = engine.addresses()!;
  const sipPort = a.sip.find((l) => l.protocol === 'udp')!.port;

  const read: Record<string, string | undefined>[] = [];
  let srf: LooseSrf | undefined;
  const app = await srfApp(a.control.port, (s) => {
    srf = s;
    s.invite((req, res) => {
      read.push({
        'Session-Expires': req.get('Session-Expires'), 'Refer-To': req.get('Refer-To'), 'Referred-By': req.get('Referred-By'),
        Event: req.get('Event'), x: req.get('x'), r: req.get('r'),
      });
      res.send(486);
    });
  }, SECRET);
  t.after(() => app.stop());
  await until(() => engine.registry.selectApp('invite') !== undefined);

  const peer = await Peer.open('127.0.0.1');
  t.after(() => peer.close());
  const branch = 'z9hG4bKcompact1';
  const lines = (method: string, toTag?: string): string[] => [
    `v: SIP/2.0/UDP 127.0.0.1:${peer.port};branch=${branch};rport`, 'Max-Forwards: 70',
    `f: <sip:caller@127.0.0.1:${peer.port}>;tag=c1`, `t: <sip:callee@127.0.0.1:${sipPort}>${toTag ? `;tag=${toTag}` : ''}`,
    'i: compact-1@127.0.0.1', `CSeq: 1 ${method}`,
  ];
  peer.send([`INVITE sip:callee@127.0.0.1:${sipPort} SIP/2.0`, ...lines('INVITE'), `m: <sip:caller@127.0.0.1:${peer.port}>`,
    'x: 90;refresher=uac', 'r: <sip:carol@example.com>', 'B: "Bob" <sip:bob@example.com>', 'o: refer', 'l: 0', '', ''].join('\r\n'), sipPort);
  const busy = await peer.waitFor(/^SIP\/2\.0 486 /);
  peer.send([`ACK sip:callee@127.0.0.1:${sipPort} SIP/2.0`, ...lines('ACK', tagIn(header(busy, 'To'))), 'l: 0', '', ''].join('\r\n'), sipPort);
  assert.deepEqual(read, [{
    'Session-Expires': '90;refresher=uac', 'Refer-To': '<sip:carol@example.com>', 'Referred-By': '"Bob" <sip:bob@example.com>',
    Event: 'refer', x: undefined, r: undefined,
  }]);

  // A response from the network to the app's own request.
  peer.onMessage = (m, from) => {
    if (m.startsWith('OPTIONS ')) peer.send(answer(m, '200 OK', 'p1', ['x: 1800;refresher=uas', 'u: talk, hold']), from.port);
  };
  const got = await new Promise<Record<string, string | number | undefined>>((resolve, reject) => {
    (srf as unknown as SrfRequestApi).request(`sip:callee@127.0.0.1:${peer.port}`, { method: 'OPTIONS' }, (err, req) => {
      if (err) return reject(err);
      req.on('response', (res) => resolve({
        status: res.status, 'Session-Expires': res.get('Session-Expires'), 'Allow-Events': res.get('Allow-Events'), x: res.get('x'),
      }));
    });
  });
  assert.deepEqual(got, { status: 200, 'Session-Expires': '1800;refresher=uas', 'Allow-Events': 'talk, hold', x: undefined });
});
