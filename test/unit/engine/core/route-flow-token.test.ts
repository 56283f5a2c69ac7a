import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { flush, invite, setup } from './core-harness.js';

const peerOf = (sip: string) => /\r\nX-Trunkgate-Peer: ([^\r]*)/.exec(sip)?.[1] ?? '';

test('a new request whose top Route names us with a user part (a Path flow token) hands that token to the app in X-Trunkgate-Peer', async () => {
  const h = setup();
  h.fromNet(invite('z9hG4bKft1', 'call-ft1', 'Route: <sip:dGNw.AbC-_9@127.0.0.1:5060;transport=udp;lr;ob>\n'));
  await flush();
  assert.equal(h.hub.sips.length, 1);
  const sip = h.hub.sips[0]!.sip;
  assert.doesNotMatch(sip, /\r\nRoute:/i, 'our Route is still removed');
  assert.match(peerOf(sip), /;flow=dGNw\.AbC-_9$/);
});

test('no flow token from a Route naming another host, from a Route of ours without a user part, or from a token with odd characters', async () => {
  for (const [i, route] of ['<sip:tok@127.0.0.66:5060;lr>', '<sip:127.0.0.1:5060;lr>', '<sip:to%22k@127.0.0.1:5060;lr>'].entries()) {
    const h = setup();
    h.fromNet(invite(`z9hG4bKft2${i}`, `call-ft2${i}`, `Route: ${route}\n`));
    await flush();
    assert.equal(h.hub.sips.length, 1, route);
    assert.doesNotMatch(peerOf(h.hub.sips[0]!.sip), /flow=/, route);
  }
});
