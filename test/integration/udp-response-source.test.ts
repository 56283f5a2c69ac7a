/**
 * RFC 3581 §4: "The response MUST be sent from the same address and port that the corresponding request was received
 * on." An engine with two UDP listeners (the shared one and a tenant's own) answers each request from the port it
 * was sent to: the 100 Trying of an INVITE, the 503 to an OPTIONS no app takes, the 400 to a request it cannot read.
 */
import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { test } from 'node:test';
import { startEngine } from '../../src/engine/index.js';
import { captureLog } from '../support/log-capture.js';

function request(method: string, port: number, localPort: number, branch: string, cseq = `1 ${method}`): string {
  return [`${method} sip:2000@127.0.0.1:${port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK${branch};rport`,
    'Max-Forwards: 70', `From: <sip:1000@127.0.0.1:${localPort}>;tag=${branch}`, `To: <sip:2000@127.0.0.1:${port}>`,
    `Call-ID: ${branch}@127.0.0.1`, `CSeq: ${cseq}`, `Contact: <sip:1000@127.0.0.1:${localPort}>`, 'Content-Length: 0', '', ''].join('\r\n');
}

test('each UDP listener answers from its own port: 100 Trying, 503 and 400', async (t) => {
  const c = captureLog();
  const engine = await startEngine({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { id: 'pbx-udp', transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' },
    ],
    control: { port: 0, secret: 's' },
    trust: { tenants: [{ name: 'pbx', transport: 'udp', sources: ['127.0.0.0/8'], hosts: [], restrictTls: false }] },
    log: c.log,
  });
  t.after(() => engine.close());
  const ports = engine.transport.listeners().filter((l) => l.protocol === 'udp').map((l) => l.port);
  assert.equal(ports.length, 2);
  assert.notEqual(ports[0], ports[1]);
  const probe = createSocket('udp4');
  probe.bind(0, '127.0.0.1');
  await once(probe, 'listening');
  t.after(() => probe.close());
  const local = probe.address().port;
  const answer = async (text: string, port: number): Promise<{ first: string; from: number }> => {
    const got = once(probe, 'message') as Promise<[Buffer, RemoteInfo]>;
    probe.send(text, port, '127.0.0.1');
    const [buf, rinfo] = await got;
    return { first: buf.toString('latin1').split('\r\n')[0]!, from: rinfo.port };
  };
  for (const [i, port] of ports.entries()) {
    assert.deepEqual(await answer(request('INVITE', port, local, `inv${i}`), port), { first: 'SIP/2.0 100 Trying', from: port });
    // The INVITE's final answer (no app: 503) comes from the same port too; then a new OPTIONS.
    const final = await new Promise<{ first: string; from: number }>((resolve) => probe.once('message', (b: Buffer, r: RemoteInfo) => resolve({ first: b.toString('latin1').split('\r\n')[0]!, from: r.port })));
    assert.equal(final.from, port, `the INVITE's final response (${final.first}) from port ${final.from}`);
    const options = await answer(request('OPTIONS', port, local, `opt${i}`), port);
    assert.equal(options.from, port, `the OPTIONS answer (${options.first})`);
    const bad = await answer(request('OPTIONS', port, local, `bad${i}`, 'x OPTIONS'), port);
    assert.deepEqual(bad, { first: 'SIP/2.0 400 Bad Request (Malformed CSeq)', from: port });
  }
});
