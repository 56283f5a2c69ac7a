import { ManualClock } from '../../../../src/common/clock.js';
import { EngineCore } from '../../../../src/engine/core/engine-core.js';
import type { CoreLimits } from '../../../../src/engine/core/limits.js';
import { parseAppText } from '../../../../src/sip/message/index.js';
import type { AppHub, CdrKind, SipFrameMeta } from '../../../../src/engine/types.js';
import type { SipMessage, SipRequest, SipResponse } from '../../../../src/sip/message/types.js';
import { TransactionLayer } from '../../../../src/sip/transaction/index.js';
import type { Flow, ListenerInfo, SendTarget, TransportSender } from '../../../../src/sip/transport/types.js';
import type { Logger } from '../../../../src/log/logger.js';

export class FakeHub implements AppHub {
  apps = new Set<string>(['app1']);
  sips: { connId: string; meta: SipFrameMeta; sip: string }[] = [];
  replies: { connId: string; appMsgId: string; fields: string[]; sip: string | undefined }[] = [];
  cdrs: { kind: CdrKind; fields: string[]; sip: string }[] = [];
  backlog = false;
  backlogged(): boolean {
    return this.backlog;
  }
  selectApp(): string | undefined {
    return this.apps.values().next().value;
  }
  isConnected(connId: string): boolean {
    return this.apps.has(connId);
  }
  sendSip(connId: string, meta: SipFrameMeta, sip: string): void {
    this.sips.push({ connId, meta, sip });
  }
  reply(connId: string, appMsgId: string, fields: string[], sip?: string): void {
    this.replies.push({ connId, appMsgId, fields, sip });
  }
  sendCdr(kind: CdrKind, fields: string[], sip: string): void {
    this.cdrs.push({ kind, fields, sip });
  }
}

export class FakeTransport implements TransportSender {
  sent: { text: string; msg: SipMessage; target: SendTarget }[] = [];
  send(data: Buffer, target: SendTarget): Promise<Flow> {
    const text = data.toString('utf8');
    this.sent.push({ text, msg: parseAppText(text)!, target });
    return Promise.resolve({ protocol: target.protocol, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: target.address, remotePort: target.port });
  }
  listeners(): ListenerInfo[] {
    return [
      { id: 'udp-1', protocol: 'udp', address: '127.0.0.1', port: 5060 },
      { id: 'tcp-1', protocol: 'tcp', address: '127.0.0.1', port: 5060 },
    ];
  }
  /** Messages sent since `from`, as start lines ('SIP/2.0 200 OK', 'BYE sip:…'). */
  starts(from = 0): string[] {
    return this.sent.slice(from).map((s) => s.text.slice(0, s.text.indexOf('\r\n')));
  }
  last(): SipMessage {
    return this.sent[this.sent.length - 1]!.msg;
  }
}

export const PEER: Flow = { protocol: 'udp', localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.2', remotePort: 5070, listenerId: 'udp-1' };

export function setup(limits?: CoreLimits, o: { lookup?: (host: string) => Promise<string>; log?: Logger } = {}) {
  const clock = new ManualClock(0);
  const hub = new FakeHub();
  const transport = new FakeTransport();
  const transactions = new TransactionLayer({ transport, clock, autoTrying: false });
  const core = new EngineCore({ transactions, transport, hub, clock, ...(limits ? { limits } : {}), ...o });
  const fromNet = (text: string, flow: Flow = PEER): void => {
    const m = parseAppText(text.replace(/\n/g, '\r\n'))!;
    core.onMessage(m, Buffer.from(text), flow);
  };
  let n = 0;
  const fromApp = (sipText: string, transactionId = '', dialogId = '', routeUri?: string): string => {
    const msgId = `m${++n}`;
    core.onAppSip({ connId: 'app1', msgId, transactionId, dialogId, sip: sipText.replace(/\n/g, '\r\n'), ...(routeUri ? { routeUri } : {}) });
    return msgId;
  };
  return { clock, hub, transport, transactions, core, fromNet, fromApp };
}

export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

export function invite(branch = 'z9hG4bKinv1', callId = 'call-1', extra = ''): string {
  return `INVITE sip:bob@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.2:5070;branch=${branch};rport=5070;received=127.0.0.2
Max-Forwards: 70
From: <sip:alice@127.0.0.2>;tag=atag
To: <sip:bob@127.0.0.1>
Call-ID: ${callId}
CSeq: 1 INVITE
Contact: <sip:alice@127.0.0.2:5070>
${extra}Content-Type: application/sdp
Content-Length: 4

v=0
`;
}

export function header(m: SipMessage, name: string): string | undefined {
  return m.headers.find((h) => h.name === name)?.value;
}

export type { SipRequest, SipResponse };
