import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { udpKernelQueue } from '../../../../src/sip/transport/udp-queue.js';

/**
 * A UDP socket in a child process that binds, prints its port and then blocks its event loop, so that nothing
 * reads what arrives: the kernel holds it (and drops past the small receive buffer).
 */
async function deafSocket(): Promise<{ port: number; stop(): void }> {
  const code = `const s = require('node:dgram').createSocket('udp4');
s.bind(0, '127.0.0.1', () => { s.setRecvBufferSize(8192); console.log(s.address().port);
  setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000), 50); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  await new Promise((r) => setTimeout(r, 200));
  return { port: Number(line), stop: () => child.kill('SIGKILL') };
}

test('udpKernelQueue reads the bytes waiting and the drops of the sockets on the given ports from /proc/net/udp', async (t) => {
  const deaf = await deafSocket();
  t.after(() => deaf.stop());
  const before = udpKernelQueue(new Set([deaf.port]));
  assert.ok(before, 'this machine has /proc/net/udp');
  assert.deepEqual(before, { queuedBytes: 0, drops: 0 });
  const s = createSocket('udp4');
  t.after(() => s.close());
  const payload = Buffer.alloc(200, 0x41);
  for (let i = 0; i < 200; i++) s.send(payload, deaf.port, '127.0.0.1');
  await new Promise((r) => setTimeout(r, 200));
  const after = udpKernelQueue(new Set([deaf.port]))!;
  assert.ok(after.queuedBytes >= 200, `bytes waiting: ${after.queuedBytes}`);
  assert.ok(after.drops > 0, `a full 8 KiB buffer drops the rest: ${after.drops}`);
  assert.deepEqual(udpKernelQueue(new Set([1])), { queuedBytes: 0, drops: 0 }, 'another port is not counted');
});
