import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { startB2bua, type B2buaApp, type B2buaPolicy } from '../../src/b2bua/index.js';
import { startEngine } from '../../src/engine/index.js';
import { answer, header, sdp, ua, type Ua } from '../support/mini-ua.js';
import { captureLog } from '../support/log-capture.js';

/** The real engine and the real drachtio-srf b2bua on loopback, the caller's tenant `pbx` on a UDP listener. */
export interface CallRig {
  sipPort: number;
  app: B2buaApp;
  cdrs: Array<Record<string, unknown>>;
  lines: Array<{ level: number; msg: string }>;
}

export async function callRig(t: TestContext, policy: (sipPort: number) => B2buaPolicy): Promise<CallRig> {
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0, tenant: 'pbx' }, { transport: 'tcp', host: '127.0.0.1', port: 0, tenant: 'pbx' }],
    control: { host: '127.0.0.1', port: 0, secret: 'calls-secret' },
  });
  t.after(() => engine.close());
  const addrs = engine.addresses()!;
  const sipPort = addrs.sip[0]!.port;
  const { log, cdrs, lines } = captureLog();
  const app = await startB2bua({ engine: { ...addrs.control, secret: 'calls-secret' }, policy: policy(sipPort), log });
  t.after(() => app.close());
  return { sipPort, app, cdrs, lines };
}

/** The caller's tenant `pbx` on the rig's UDP listener, every number to tenant `far` at `farPort` by one dial peer. */
export function pbxToFar(farPort: number): (sipPort: number) => B2buaPolicy {
  return (sipPort) => ({
    tenants: { pbx: { transport: 'udp' }, far: { transport: 'udp', sipServer: `127.0.0.1:${farPort}` } },
    listeners: [{ transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: 'pbx' }],
    categories: [{ name: 'local', order: 60, default: true, patterns: ['^\\d+$'] }],
    dialPeers: [{ id: 'far', destinationPattern: '^\\d+$', tenant: 'far' }],
  });
}

/** A UAS that answers INVITE with 200 and BYE with 200; unless `silent`, every other in-dialog request with 200 too. */
export async function answeringUa(t: TestContext, o: { silent?: boolean } = {}): Promise<Ua> {
  return ua(t, (msg, self, from) => {
    if (msg.startsWith('INVITE ') && !/^To:.*;tag=/im.test(msg)) self.send(answer(msg, '200 OK', self.port, sdp), from);
    else if (msg.startsWith('BYE ') || (!o.silent && /^(INFO|UPDATE|INVITE|OPTIONS) /.test(msg))) {
      self.send(answer(msg, '200 OK', self.port, msg.startsWith('INVITE') ? sdp : ''), from);
    }
  });
}

/** Waits (bounded) until `u` has received `n` messages matching `re` (they stay in `received`). */
export async function count(u: Ua, re: RegExp, n: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (u.received.filter((m) => re.test(m)).length < n) {
    assert.ok(Date.now() < deadline, `fewer than ${n} messages matching ${re} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A UAS that never answers anything. */
export async function deadUa(t: TestContext): Promise<Ua> {
  return ua(t);
}

let seq = 0;
export interface PlacedCall {
  callId: string;
  final: string;
  /** Sends an in-dialog request from the caller (after the 200). */
  inDialog(method: string, extra?: string[]): string;
}

/** An INVITE from `caller` (a mini UA) through the gateway; on 200 the ACK is sent. Answers BYEs with 200 unless told not to. */
export async function placeCall(caller: Ua, sipPort: number, number: string, extra: string[] = []): Promise<PlacedCall> {
  const n = ++seq;
  const callId = `calls-${process.pid}-${n}`;
  const fromTag = `ft${n}`;
  caller.send([`INVITE sip:${number}@127.0.0.1:${sipPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKcalls${n};rport`,
    ...(extra.some((h) => /^Max-Forwards:/i.test(h)) ? [] : ['Max-Forwards: 70']),
    `From: <sip:1000@127.0.0.1:${caller.port}>;tag=${fromTag}`, `To: <sip:${number}@127.0.0.1:${sipPort}>`,
    `Call-ID: ${callId}`, 'CSeq: 1 INVITE', `Contact: <sip:1000@127.0.0.1:${caller.port}>`, ...extra,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp].join('\r\n'), sipPort);
  const final = await caller.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [\\s\\S]*Call-ID: ${callId}`, 'im'));
  const to = header(final, 'To');
  const contact = /<([^>]+)>/.exec(header(final, 'Contact'))?.[1] ?? `sip:${number}@127.0.0.1:${sipPort}`;
  let cseq = 1;
  const inDialog = (method: string, more: string[] = []) => {
    const c = method === 'ACK' ? 1 : ++cseq;
    const text = [`${method} ${contact} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bKcalls${n}x${c}${method};rport`,
      'Max-Forwards: 70', `From: <sip:1000@127.0.0.1:${caller.port}>;tag=${fromTag}`, `To: ${to}`, `Call-ID: ${callId}`,
      `CSeq: ${c} ${method}`, ...more, 'Content-Length: 0', '', ''].join('\r\n');
    caller.send(text, sipPort);
    return text;
  };
  if (/^SIP\/2\.0 200 /.test(final)) inDialog('ACK');
  return { callId, final, inDialog };
}

/** Waits (bounded) for a message matching `re` at `u`, and how long it took. */
export async function within(u: Ua, re: RegExp, ms: number): Promise<{ msg: string; tookMs: number }> {
  const t0 = Date.now();
  const deadline = Date.now() + ms;
  for (;;) {
    const i = u.received.findIndex((m) => re.test(m));
    if (i >= 0) return { msg: u.received.splice(i, 1)[0]!, tookMs: Date.now() - t0 };
    assert.ok(Date.now() < deadline, `no message matching ${re} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits (bounded) for a CDR matching `match`. */
export async function cdrWhere(rig: CallRig, match: (c: Record<string, unknown>) => boolean, ms = 5_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = rig.cdrs.find(match);
    if (c) return c;
    assert.ok(Date.now() < deadline, `no such CDR within ${ms} ms: ${JSON.stringify(rig.cdrs.slice(-3))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
