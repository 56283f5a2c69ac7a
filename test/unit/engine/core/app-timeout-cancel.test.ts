import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { invite, setup } from './core-harness.js';

test('an INVITE its app did not answer in time: the caller gets 503, the app a CANCEL that says it is the engine\'s and why', () => {
  const h = setup();
  h.fromNet(invite());
  h.clock.advance(5_000);
  assert.equal(h.transport.starts().at(-1), 'SIP/2.0 503 Service Unavailable');
  const cancel = h.hub.sips.at(-1)!;
  assert.match(cancel.sip, /^CANCEL /);
  assert.match(cancel.sip, /\r\nX-Trunkgate-Peer: verified=0;transport=udp;origin=engine\r\n/);
  assert.match(cancel.sip, /\r\nReason: SIP;cause=503;text="no answer from the application within 5000 ms"\r\n/);
});
