/**
 * Conformance suite of the SIP transport layer, run against UDP, TCP and TLS (docs/conventions.md, Conformance suites). Each
 * transport supplies `create`, which starts a TransportLayer on loopback port 0 and a raw client of the
 * same protocol; cases that cannot apply to a transport are listed in `notApplicable` with the reason, and not registered.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { SipMessage } from '../../src/sip/message/types.js';
import type { Flow, ListenerInfo, TransportProtocol } from '../../src/sip/transport/types.js';
import type { TransportLayer, TransportLayerEvents, TransportLayerOptions } from '../../src/sip/transport/transport-layer.js';

/** A raw peer of the layer: bytes in and out, no SIP logic. */
export interface RawClient {
  readonly localAddress: string;
  readonly localPort: number;
  send(data: Buffer | string): void;
  /** Resolves with everything received once `done` accepts it; rejects after `timeoutMs` (default 5,000). */
  receive(done: (all: Buffer) => boolean, timeoutMs?: number): Promise<Buffer>;
  /** Resolves when the server closed the connection (streams only). */
  readonly closed: Promise<void>;
  /** TCP reset (streams) or plain close (UDP). */
  reset(): void;
  close(): void;
}

export interface TransportHarness {
  layer: TransportLayer;
  listener: ListenerInfo;
  client(): Promise<RawClient>;
}

export interface TransportSuiteOptions {
  name: string;
  protocol: TransportProtocol;
  /** Loopback addresses to run on ('127.0.0.1', and '::1' when the host has it). */
  hosts: string[];
  create: (t: TestContext, host: string, options: Partial<TransportLayerOptions>) => Promise<TransportHarness>;
  /** Cases that do not apply to this transport, and why. A name that is no case of the suite fails the file at load. */
  notApplicable?: { reason: string; tests: string[] }[];
  /** Extra checks on the flow of a received message (TLS: identities). */
  checkFlow?: (flow: Flow) => void;
}

/** Collects what the layer delivers, with bounded waits. */
export class Inbox {
  readonly items: { message: SipMessage; raw: Buffer; flow: Flow }[] = [];
  #waiters: (() => void)[] = [];

  onMessage(message: SipMessage, raw: Buffer, flow: Flow): void {
    this.items.push({ message, raw, flow });
    for (const w of this.#waiters.splice(0)) w();
  }

  async waitFor(count: number, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.items.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.items.length} of ${count} messages`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

export function sipRequest(o: { method?: string; protocol: TransportProtocol; viaHost: string; cseq?: number; branch?: string; body?: string; rport?: boolean }): string {
  const body = o.body ?? '';
  const method = o.method ?? 'OPTIONS';
  return (
    `${method} sip:gw@127.0.0.1 SIP/2.0\r\n` +
    `Via: SIP/2.0/${o.protocol.toUpperCase()} ${o.viaHost};branch=${o.branch ?? 'z9hG4bK-' + (o.cseq ?? 1)}${o.rport ? ';rport' : ''}\r\n` +
    'Max-Forwards: 70\r\n' +
    'From: <sip:alice@client.test>;tag=a1\r\n' +
    'To: <sip:gw@127.0.0.1>\r\n' +
    'Call-ID: suite-1@client.test\r\n' +
    `CSeq: ${o.cseq ?? 1} ${method}\r\n` +
    (body ? 'Content-Type: text/plain;charset=utf-8\r\n' : '') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

/** The next emission of a layer event, with its arguments. */
export function nextEvent<K extends keyof TransportLayerEvents & string>(layer: TransportLayer, event: K): Promise<TransportLayerEvents[K]> {
  return new Promise((resolve) => layer.once(event, (...args) => resolve(args)));
}

function header(m: SipMessage, name: string): string | undefined {
  return m.headers.find((h) => h.name === name)?.value;
}

const untilCrlfCrlf = (b: Buffer): boolean => b.includes('\r\n\r\n');

export function runTransportSuite(o: TransportSuiteOptions): void {
  const notApplicable = new Set((o.notApplicable ?? []).flatMap((n) => n.tests));
  const cases = new Set<string>();
  const reliable = o.protocol !== 'udp';

  for (const host of o.hosts) {
    const it = (name: string, fn: (t: TestContext) => Promise<void>): void => {
      cases.add(name);
      if (!notApplicable.has(name)) test(`${o.name} ${host}: ${name}`, { timeout: 20_000 }, fn);
    };

    it('request in: onMessage with the raw bytes and the right flow', async (t) => {
      const h = await o.create(t, host, {});
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      const body = 'grüße ✓ 🎉';
      const text = sipRequest({ protocol: o.protocol, viaHost: `${c.localAddress.includes(':') ? `[${c.localAddress}]` : c.localAddress}:${c.localPort}`, body, method: 'MESSAGE' });
      c.send(text);
      await inbox.waitFor(1);
      const { message, raw, flow } = inbox.items[0]!;
      assert.equal(raw.toString('utf8'), text);
      assert.equal(message.kind, 'request');
      assert.equal(message.body.toString('utf8'), body);
      assert.equal(flow.protocol, o.protocol);
      assert.equal(flow.localAddress, h.listener.address);
      assert.equal(flow.localPort, h.listener.port);
      assert.equal(flow.remoteAddress, c.localAddress);
      assert.equal(flow.remotePort, c.localPort);
      assert.equal(flow.listenerId, h.listener.id);
      assert.equal(typeof flow.connectionId === 'string', reliable);
      // sent-by equals the source and there is no rport: the Via is untouched.
      assert.equal(header(message, 'via')?.includes('received='), false);
      o.checkFlow?.(flow);
      assert.equal(h.layer.stats().messagesIn, 1);
    });

    it('Via of a request gets received and rport from the packet source', async (t) => {
      const h = await o.create(t, host, {});
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      c.send(sipRequest({ protocol: o.protocol, viaHost: 'client.test:5099', rport: true }));
      await inbox.waitFor(1);
      const via = header(inbox.items[0]!.message, 'via')!;
      assert.equal(via, `SIP/2.0/${o.protocol.toUpperCase()} client.test:5099;branch=z9hG4bK-1;rport=${c.localPort};received=${c.localAddress}`);
    });

    it('response out along the flow of the request', async (t) => {
      const h = await o.create(t, host, {});
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      c.send(sipRequest({ protocol: o.protocol, viaHost: 'client.test', rport: true }));
      await inbox.waitFor(1);
      const { flow } = inbox.items[0]!;
      const response = Buffer.from('SIP/2.0 200 OK\r\nVia: x\r\nContent-Length: 0\r\n\r\n');
      const target = { protocol: flow.protocol, address: flow.remoteAddress, port: flow.remotePort } as const;
      const used = await h.layer.send(response, { ...target, ...(flow.connectionId ? { connectionId: flow.connectionId } : {}), ...(flow.listenerId ? { listenerId: flow.listenerId } : {}) });
      const got = await c.receive((b) => b.length >= response.length);
      assert.equal(got.toString(), response.toString());
      assert.equal(used.connectionId, flow.connectionId);
      assert.equal(used.localPort, h.listener.port);
      if (reliable) assert.equal(h.layer.connections().length, 1, 'no second connection was opened');
    });

    it('a malformed but addressable request gets a 400 naming the problem, counted', async (t) => {
      const h = await o.create(t, host, {});
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      const bad = sipRequest({ protocol: o.protocol, viaHost: 'client.test' }).replace('Max-Forwards: 70\r\n', 'this line is no header\r\n');
      c.send(bad);
      const got = (await c.receive(untilCrlfCrlf)).toString();
      assert.match(got, /^SIP\/2\.0 400 Bad Request \(.+\)\r\n/);
      assert.match(got, /\r\nCall-ID: suite-1@client\.test\r\n/);
      assert.match(got, /\r\nTo: <sip:gw@127\.0\.0\.1>;tag=[0-9a-f]+\r\n/);
      assert.equal(inbox.items.length, 0);
      const s = h.layer.stats();
      assert.equal(s.badRequestsSent, 1);
      assert.equal(Object.values(s.drops).reduce((a, b) => a + b, 0), 1);
    });

    it('garbage is dropped and counted, and the listener keeps serving', async (t) => {
      const h = await o.create(t, host, {});
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      const drops = nextEvent(h.layer, 'drop');
      c.send(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]));
      const [drop] = await drops;
      assert.match(drop.code, /^ERR_SIP_/);
      assert.equal(h.layer.stats().dropped, 1);
      if (reliable) await c.closed;
      const c2 = await h.client();
      c2.send(sipRequest({ protocol: o.protocol, viaHost: 'client.test' }));
      await inbox.waitFor(1);
    });

    it('CRLF ping gets a CRLF pong', async (t) => {
      const h = await o.create(t, host, {});
      const c = await h.client();
      const pinged = nextEvent(h.layer, 'ping');
      c.send('\r\n\r\n');
      const got = await c.receive((b) => b.length >= 2);
      assert.equal(got.toString(), '\r\n');
      await pinged;
      assert.equal(h.layer.stats().pongsOut, 1);
    });

    it('an idle connection is closed by the server', async (t) => {
      const h = await o.create(t, host, { idleTimeoutMs: 200, unusedTimeoutMs: 200 });
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      c.send(sipRequest({ protocol: o.protocol, viaHost: 'client.test' }));
      await inbox.waitFor(1);
      h.layer.markUsed(inbox.items[0]!.flow);
      const closing = nextEvent(h.layer, 'connectionClose');
      await c.closed;
      const [info, reason] = await closing;
      assert.equal(reason, 'idle timeout');
      assert.equal(info.messagesIn, 1);
      assert.equal(h.layer.connections().length, 0);
    });

    it('a connection whose messages the layer above did not mark used is closed at the unused timeout', async (t) => {
      const h = await o.create(t, host, { idleTimeoutMs: 60_000, unusedTimeoutMs: 200 });
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      c.send(sipRequest({ protocol: o.protocol, viaHost: 'client.test' }));
      await inbox.waitFor(1);
      const closing = nextEvent(h.layer, 'connectionClose');
      await c.closed;
      const [info, reason] = await closing;
      assert.equal(reason, 'unused timeout');
      assert.equal(info.messagesIn, 1);
    });

    it('a peer reset in the middle of a message closes only that connection', async (t) => {
      const h = await o.create(t, host, {});
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      const text = sipRequest({ protocol: o.protocol, viaHost: 'client.test', body: 'x'.repeat(100) });
      const opened = h.layer.connections().length > 0 ? Promise.resolve() : nextEvent(h.layer, 'connectionOpen');
      await opened;
      const closed = nextEvent(h.layer, 'connectionClose');
      c.send(text.slice(0, 150));
      await new Promise((r) => setTimeout(r, 50));
      c.reset();
      await closed;
      assert.equal(inbox.items.length, 0);
      assert.equal(h.layer.connections().length, 0);
      const c2 = await h.client();
      c2.send(text);
      await inbox.waitFor(1);
    });

    it('1,000 pipelined messages on one connection arrive complete and in order', async (t) => {
      const h = await o.create(t, host, {});
      const inbox = new Inbox();
      h.layer.setUser(inbox);
      const c = await h.client();
      const parts: string[] = [];
      for (let i = 1; i <= 1000; i++) parts.push(sipRequest({ protocol: o.protocol, viaHost: 'client.test', cseq: i, body: i % 3 === 0 ? `body ${i} ✓` : '' }));
      const all = parts.join('');
      for (let i = 0; i < all.length; i += 7919) c.send(all.slice(i, i + 7919));
      await inbox.waitFor(1000, 10_000);
      assert.deepEqual(inbox.items.map((x) => header(x.message, 'cseq')), parts.map((_, i) => `${i + 1} OPTIONS`));
      assert.equal(new Set(inbox.items.map((x) => x.flow.connectionId)).size, 1);
    });

    it('a response toward a vanished connection opens a new one to the given address (RFC 3261 §18.2.2)', async (t) => {
      const a = await o.create(t, host, {});
      const b = await o.create(t, host, {});
      const aInbox = new Inbox();
      const bInbox = new Inbox();
      a.layer.setUser(aInbox);
      b.layer.setUser(bInbox);
      const request = Buffer.from(sipRequest({ protocol: o.protocol, viaHost: `gw-a.test:${a.listener.port}` }));
      const out = await a.layer.send(request, { protocol: o.protocol, address: b.listener.address, port: b.listener.port });
      await bInbox.waitFor(1);
      const inbound = bInbox.items[0]!.flow;
      const again = await a.layer.send(request, { protocol: o.protocol, address: b.listener.address, port: b.listener.port });
      assert.equal(again.connectionId, out.connectionId, 'outbound connection reused by key');
      await bInbox.waitFor(2);
      const gone = nextEvent(b.layer, 'connectionClose');
      assert.equal(a.layer.closeConnection(out.connectionId!), true);
      await gone;
      const response = Buffer.from(
        `SIP/2.0 200 OK\r\nVia: SIP/2.0/${o.protocol.toUpperCase()} gw-a.test:${a.listener.port};branch=z9hG4bK-1\r\n` +
          'From: <sip:alice@client.test>;tag=a1\r\nTo: <sip:gw@127.0.0.1>;tag=b1\r\nCall-ID: suite-1@client.test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
      );
      const used = await b.layer.send(response, { protocol: o.protocol, address: a.listener.address, port: a.listener.port, connectionId: inbound.connectionId! });
      assert.notEqual(used.connectionId, inbound.connectionId);
      assert.equal(used.remotePort, a.listener.port);
      await aInbox.waitFor(1);
      assert.equal(aInbox.items[0]!.message.kind, 'response');
    });

    it('a connect that is refused rejects with ERR_SIP_TRANSPORT_CONNECT and is counted', async (t) => {
      const a = await o.create(t, host, {});
      const b = await o.create(t, host, {});
      const port = b.listener.port;
      await b.layer.close();
      await assert.rejects(a.layer.send(Buffer.from('x'), { protocol: o.protocol, address: host, port }), { code: 'ERR_SIP_TRANSPORT_CONNECT' });
      assert.equal(a.layer.stats().connectFailures, 1);
      assert.equal(a.layer.connections().length, 0);
    });

    it('close is idempotent and later sends are refused with a code', async (t) => {
      const h = await o.create(t, host, {});
      await h.layer.close();
      await h.layer.close();
      await assert.rejects(h.layer.send(Buffer.from('x'), { protocol: o.protocol, address: host, port: h.listener.port }), { code: 'ERR_SIP_TRANSPORT_STATE' });
    });
  }
  const unknown = [...notApplicable].filter((name) => !cases.has(name));
  if (unknown.length > 0) throw new Error(`${o.name}: notApplicable names no case of the transport suite: ${unknown.join('; ')}`);
}
