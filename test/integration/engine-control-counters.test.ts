// The control port's counters reach the engine snapshot that /stats reads: an app refused for its secret and a
// connection closed for garbage bytes are counted there, not only logged.
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { connect } from 'node:net';
import { test } from 'node:test';
import { startEngine } from '../../src/engine/index.js';
import { engineSnapshot } from '../../src/engine/engine-snapshot.js';

test('an app with a wrong secret and a connection sending garbage are counted in the engine snapshot\'s control counters', async (t) => {
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: 'counted-secret' },
  });
  t.after(() => engine.close());
  const { port } = engine.addresses()!.control;
  const before = engineSnapshot(engine).control;
  const send = async (bytes: string | Buffer) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    await once(s, 'connect');
    s.write(bytes);
    await once(s, 'close');
  };
  const frame = (m: string) => `${Buffer.byteLength(m)}#${m}`;
  await send(frame('a1|authenticate|wrong-secret|'));
  const refused = engineSnapshot(engine).control;
  assert.equal((refused.controlErrors ?? 0) - (before.controlErrors ?? 0), 1, `wrong secret: ${JSON.stringify(refused)}`);
  await send(Buffer.from([0xff, 0x00, 0x23, 0x7c, 0x0d, 0x0a, 0x99]));
  const after = engineSnapshot(engine).control;
  assert.equal((after.controlErrors ?? 0) - (refused.controlErrors ?? 0), 1, `garbage: ${JSON.stringify(after)}`);
  assert.equal(after.appsConnected, 0);
});
