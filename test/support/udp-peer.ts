import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import type { TestContext } from 'node:test';

/** A UDP socket on a loopback address that keeps every datagram it receives, closed with the test. */
export interface UdpPeer {
  s: Socket;
  port: number;
  got: string[];
}

export async function udpPeer(t: Pick<TestContext, 'after'>, host: string): Promise<UdpPeer> {
  const s = createSocket('udp4');
  const got: string[] = [];
  s.on('message', (m) => got.push(m.toString()));
  s.bind(0, host);
  await once(s, 'listening');
  t.after(() => s.close());
  return { s, port: s.address().port, got };
}
