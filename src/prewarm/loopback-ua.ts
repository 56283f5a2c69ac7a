import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { getHeader, header, parseMessage, serializeMessage, type SipMessage, type SipRequest } from '../sip/message/index.js';
import { buildResponse } from '../sip/transaction/index.js';

/**
 * The two far ends of a pre-warm call, on loopback UDP ports of their own: a caller (UAC) that places a call,
 * waits for its 200, acknowledges it and hangs up, and a called party (UAS) that rings, answers and takes the BYE.
 * Enough SIP for a gateway's B2BUA path on a network without loss; nothing here is ever sent off loopback.
 */

const HOST = '127.0.0.1';
const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\n' +
  'a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n';

async function bind(): Promise<{ socket: Socket; port: number }> {
  const socket = createSocket('udp4');
  socket.on('error', () => undefined);
  socket.bind(0, HOST);
  await once(socket, 'listening');
  return { socket, port: socket.address().port };
}

/** A response to `req` (the SIP toolkit's: Vias, From, To with our tag, Call-ID, CSeq) with our Contact. */
function respond(req: SipRequest, status: number, reason: string, contactPort: number, sdp?: string): Buffer {
  const headers = [header('Contact', `<sip:uas@${HOST}:${contactPort}>`), ...(sdp ? [header('Content-Type', 'application/sdp')] : [])];
  return serializeMessage(buildResponse(req, status, reason, { toTag: 'uas', headers, ...(sdp ? { body: Buffer.from(sdp) } : {}) }));
}

/** The called party: 180 and 200 with SDP for an INVITE, 200 for BYE and anything else but ACK. */
export async function startLoopbackUas(): Promise<{ port: number; close(): void }> {
  const { socket, port } = await bind();
  socket.on('message', (buf, from) => {
    const r = parseMessage(buf);
    if (!r.ok || r.message.kind !== 'request' || r.message.method === 'ACK') return;
    const req = r.message;
    const send = (data: Buffer): void => void socket.send(data, from.port, from.address);
    if (req.method === 'INVITE') {
      send(respond(req, 180, 'Ringing', port));
      send(respond(req, 200, 'OK', port, SDP));
    } else {
      send(respond(req, 200, 'OK', port));
    }
  });
  return { port, close: () => socket.close() };
}

export interface LoopbackCaller {
  /** One call to `number` through the gateway at `gatewayPort`: true when INVITE, ACK and BYE all went through. */
  call(n: number, number: string, gatewayPort: number, timeoutMs: number): Promise<boolean>;
  close(): void;
}

/** The caller: its calls are told apart by Call-ID; a final response to an INVITE or BYE settles the step waiting for it. */
export async function startLoopbackCaller(): Promise<LoopbackCaller> {
  const { socket, port } = await bind();
  const waiting = new Map<string, (m: SipMessage) => void>();
  socket.on('message', (buf) => {
    const r = parseMessage(buf);
    if (!r.ok || r.message.kind !== 'response' || r.message.status < 200) return;
    const key = `${getHeader(r.message, 'call-id') ?? ''} ${getHeader(r.message, 'cseq') ?? ''}`;
    waiting.get(key)?.(r.message);
  });
  const final = (callId: string, cseq: string, timeoutMs: number): Promise<SipMessage | undefined> =>
    new Promise((resolve) => {
      const key = `${callId} ${cseq}`;
      const timer = setTimeout(() => {
        waiting.delete(key);
        resolve(undefined);
      }, timeoutMs);
      waiting.set(key, (m) => {
        clearTimeout(timer);
        waiting.delete(key);
        resolve(m);
      });
    });
  return {
    async call(n, number, gatewayPort, timeoutMs) {
      const callId = `prewarm-${n}-${port}@${HOST}`;
      const from = `"Prewarm" <sip:prewarm@${HOST}:${port}>;tag=uac${n}`;
      const uri = `sip:${number}@${HOST}:${gatewayPort}`;
      const send = (text: string): void => void socket.send(Buffer.from(text), gatewayPort, HOST);
      const head = (method: string, seq: number, branch: string, to: string): string =>
        `Via: SIP/2.0/UDP ${HOST}:${port};branch=z9hG4bK-pw-${branch}-${n};rport\r\nMax-Forwards: 70\r\nFrom: ${from}\r\nTo: ${to}\r\n` +
        `Call-ID: ${callId}\r\nCSeq: ${seq} ${method}\r\n`;
      const invited = final(callId, '1 INVITE', timeoutMs);
      send(`INVITE ${uri} SIP/2.0\r\n${head('INVITE', 1, 'inv', `<${uri}>`)}Contact: <sip:prewarm@${HOST}:${port}>\r\n` +
        `Content-Type: application/sdp\r\nContent-Length: ${SDP.length}\r\n\r\n${SDP}`);
      const ok = await invited;
      if (!ok || ok.kind !== 'response' || ok.status !== 200) return false;
      const to = getHeader(ok, 'to') ?? `<${uri}>`;
      // In the dialog: the answer's Contact is the target (RFC 3261 §12.2.1.1); it is the gateway's own address.
      const target = /<([^>]+)>/.exec(getHeader(ok, 'contact') ?? '')?.[1] ?? uri;
      send(`ACK ${target} SIP/2.0\r\n${head('ACK', 1, 'ack', to)}Content-Length: 0\r\n\r\n`);
      const byed = final(callId, '2 BYE', timeoutMs);
      send(`BYE ${target} SIP/2.0\r\n${head('BYE', 2, 'bye', to)}Content-Length: 0\r\n\r\n`);
      const bye = await byed;
      return bye !== undefined && bye.kind === 'response' && bye.status === 200;
    },
    close: () => socket.close(),
  };
}
