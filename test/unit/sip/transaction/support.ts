/** Fakes for the transaction-layer tests: a recording transport, message makers, recording users. */
import type { SipHeader, SipRequest, SipResponse } from '../../../../src/sip/message/types.js';
import type { Flow, ListenerInfo, SendTarget, TransportProtocol, TransportSender } from '../../../../src/sip/transport/types.js';
import { buildResponse } from '../../../../src/sip/transaction/build-response.js';
import type {
  ClientTransaction, ClientTransactionUser, ServerTransaction, TransactionUser,
} from '../../../../src/sip/transaction/types.js';

export interface SentRecord {
  data: Buffer;
  text: string;
  target: SendTarget;
  /** First line of the message. */
  line: string;
}

export class FakeTransport implements TransportSender {
  readonly sent: SentRecord[] = [];
  /** When set, every send rejects with this error. */
  failWith: Error | undefined;
  /** Keep decoded text and first line (switch off in the performance test). */
  record = true;
  count = 0;

  send(data: Buffer, target: SendTarget): Promise<Flow> {
    this.count++;
    if (this.record) {
      const text = data.toString('utf8');
      this.sent.push({ data, text, target, line: text.slice(0, text.indexOf('\r\n')) });
    }
    if (this.failWith) return Promise.reject(this.failWith);
    return Promise.resolve(flowTo(target));
  }

  listeners(): ListenerInfo[] {
    return [{ id: 'l1', protocol: 'udp', address: '127.0.0.1', port: 5060 }];
  }

  lines(): string[] {
    return this.sent.map((s) => s.line);
  }

  clear(): void {
    this.sent.length = 0;
  }
}

export function flowTo(target: SendTarget): Flow {
  const f: Flow = {
    protocol: target.protocol, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: target.address, remotePort: target.port,
  };
  if (target.protocol !== 'udp') f.connectionId = target.connectionId ?? 'conn-out-1';
  return f;
}

export function flowFrom(protocol: TransportProtocol = 'udp', remotePort = 5070): Flow {
  const f: Flow = { protocol, localAddress: '127.0.0.1', localPort: 5060, remoteAddress: '127.0.0.2', remotePort };
  if (protocol !== 'udp') f.connectionId = 'conn-in-1';
  return f;
}

export function targetOf(protocol: TransportProtocol = 'udp'): SendTarget {
  return { protocol, address: '127.0.0.3', port: 5080 };
}

/** Lets the transport's promises settle. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

const h = (name: string, raw: string, value: string): SipHeader => ({ name, raw, value });

export interface RequestSpec {
  branch?: string;
  sentBy?: string;
  protocol?: string;
  cseq?: number;
  cseqMethod?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  uri?: string;
  route?: string[];
  extraVia?: string[];
}

export function makeRequest(method: string, spec: RequestSpec = {}): SipRequest {
  const branch = spec.branch ?? 'z9hG4bK-test-1';
  const headers: SipHeader[] = [
    h('via', 'Via', `SIP/2.0/${spec.protocol ?? 'UDP'} ${spec.sentBy ?? '127.0.0.2:5070'};branch=${branch}`),
  ];
  for (const v of spec.extraVia ?? []) headers.push(h('via', 'Via', v));
  headers.push(h('max-forwards', 'Max-Forwards', '70'));
  headers.push(h('from', 'From', `"Alice" <sip:alice@127.0.0.2>;tag=${spec.fromTag ?? 'fromtag1'}`));
  headers.push(h('to', 'To', `<sip:bob@127.0.0.3>${spec.toTag ? `;tag=${spec.toTag}` : ''}`));
  headers.push(h('call-id', 'Call-ID', spec.callId ?? 'call-1@127.0.0.2'));
  headers.push(h('cseq', 'CSeq', `${spec.cseq ?? 1} ${spec.cseqMethod ?? method}`));
  for (const r of spec.route ?? []) headers.push(h('route', 'Route', r));
  headers.push(h('content-length', 'Content-Length', '0'));
  return { kind: 'request', method, uri: spec.uri ?? 'sip:bob@127.0.0.3:5080', version: 'SIP/2.0', headers, body: Buffer.alloc(0) };
}

export function makeResponse(request: SipRequest, status: number, toTag = status === 100 ? undefined : 'totag9'): SipResponse {
  return buildResponse(request, status, reasonOf(status), toTag === undefined ? {} : { toTag });
}

function reasonOf(status: number): string {
  return ({ 100: 'Trying', 180: 'Ringing', 183: 'Session Progress', 200: 'OK', 202: 'Accepted', 302: 'Moved', 404: 'Not Found', 486: 'Busy Here', 487: 'Request Terminated', 503: 'Service Unavailable' } as Record<number, string>)[status] ?? 'Status';
}

export function headerOf(text: string, name: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && line.slice(0, i).trim().toLowerCase() === name.toLowerCase()) out.push(line.slice(i + 1).trim());
  }
  return out;
}

export type ClientEvent =
  | { type: 'response'; status: number; state: string }
  | { type: 'timeout'; state: string }
  | { type: 'transportError'; code: string | undefined; state: string };

export function recordingClientUser(): ClientTransactionUser & { events: ClientEvent[] } {
  const events: ClientEvent[] = [];
  return {
    events,
    onResponse(response: SipResponse, _flow: Flow, txn: ClientTransaction) {
      events.push({ type: 'response', status: response.status, state: txn.state });
    },
    onTimeout(txn: ClientTransaction) {
      events.push({ type: 'timeout', state: txn.state });
    },
    onTransportError(error: Error, txn: ClientTransaction) {
      events.push({ type: 'transportError', code: (error as { code?: string }).code, state: txn.state });
    },
  };
}

export interface RecordingTu extends TransactionUser {
  requests: { request: SipRequest; txn: ServerTransaction }[];
  acks: SipRequest[];
  strays: SipResponse[];
  errors: { txn: ServerTransaction; code: string | undefined }[];
}

export function recordingTu(onRequest?: (request: SipRequest, txn: ServerTransaction) => void): RecordingTu {
  const tu: RecordingTu = {
    requests: [], acks: [], strays: [], errors: [],
    onRequest(request, _flow, txn) {
      tu.requests.push({ request, txn });
      onRequest?.(request, txn);
    },
    onAck(request) {
      tu.acks.push(request);
    },
    onStrayResponse(response) {
      tu.strays.push(response);
    },
    onServerTransactionError(txn, error) {
      tu.errors.push({ txn, code: (error as { code?: string }).code });
    },
  };
  return tu;
}

import { ManualClock } from '../../../../src/common/clock.js';
import { TransactionLayer, type TransactionLayerOptions } from '../../../../src/sip/transaction/transaction-layer.js';

export function setup(opts: Partial<TransactionLayerOptions> = {}) {
  const clock = new ManualClock(0);
  const transport = new FakeTransport();
  const layer = new TransactionLayer({ transport, clock, ...opts });
  const tu = recordingTu();
  layer.setUser(tu);
  return { clock, transport, layer, tu };
}

/** Times (ms from start) at which the transport was handed a message whose first line is `line`. */
export function sendTimes(clock: ManualClock, transport: FakeTransport, line: string, until: number, step = 50): number[] {
  const times: number[] = [];
  let seen = transport.sent.filter((s) => s.line === line).length;
  while (clock.now() < until) {
    clock.advance(step);
    const n = transport.sent.filter((s) => s.line === line).length;
    for (; seen < n; seen++) times.push(clock.now());
  }
  return times;
}
