import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/**
 * A phone over one TCP or TLS connection on loopback, enough to register with digest through an edge proxy and to answer a
 * request that comes back over that connection (RFC 5626: the phone never listens; it only keeps its flow open).
 */
export class TcpPhone {
  readonly socket: Socket;
  readonly transport: 'tcp' | 'tls';
  readonly received: string[] = [];
  #buf = Buffer.alloc(0);
  #waiters: Array<{ re: RegExp; resolve: (m: string) => void }> = [];

  private constructor(socket: Socket, transport: 'tcp' | 'tls') {
    this.socket = socket;
    this.transport = transport;
    socket.on('data', (d) => this.#data(d));
    socket.on('error', () => undefined);
  }

  static async open(port: number, localAddress = '127.0.0.1'): Promise<TcpPhone> {
    const s = connect({ host: '127.0.0.1', port, localAddress });
    await once(s, 'connect');
    return new TcpPhone(s, 'tcp');
  }

  /** Over TLS, trusting `ca` for the gateway's certificate (no client certificate). */
  static async openTls(port: number, ca: string): Promise<TcpPhone> {
    const s = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'gw.trunkgate.test' });
    await once(s, 'secureConnect');
    return new TcpPhone(s, 'tls');
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  get closed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** The next message matching `re` (one already received first), waiting at most `timeoutMs`. */
  next(re: RegExp, timeoutMs = 5_000): Promise<string> {
    const i = this.received.findIndex((m) => re.test(m));
    if (i >= 0) return Promise.resolve(this.received.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message matching ${re} in ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({ re, resolve: (m) => { clearTimeout(timer); resolve(m); } });
    });
  }

  close(): void {
    this.socket.destroy();
  }

  #data(d: Buffer): void {
    this.#buf = Buffer.concat([this.#buf, d]);
    for (let guard = 0; guard < 100; guard++) {
      while (this.#buf.length >= 2 && this.#buf[0] === 13 && this.#buf[1] === 10) this.#buf = this.#buf.subarray(2);
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buf.subarray(0, end).toString('latin1');
      const length = Number(/^(?:content-length|l)\s*:\s*(\d+)/im.exec(head)?.[1] ?? '0');
      if (this.#buf.length < end + 4 + length) return;
      const msg = this.#buf.subarray(0, end + 4 + length).toString('utf8');
      this.#buf = this.#buf.subarray(end + 4 + length);
      const w = this.#waiters.findIndex((x) => x.re.test(msg));
      if (w >= 0) this.#waiters.splice(w, 1)[0]!.resolve(msg);
      else this.received.push(msg);
    }
  }
}

export const headerOf = (msg: string, name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(msg)?.[1]?.trim() ?? '';
export const statusOf = (msg: string): number => Number(/^SIP\/2\.0 (\d{3})/.exec(msg)?.[1] ?? '0');

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** An Authorization value answering a WWW-Authenticate challenge (RFC 2617 digest, MD5, with or without qop=auth). */
export function digestAuthorization(challenge: string, o: { user: string; password: string; method: string; uri: string }): string {
  const param = (n: string) => new RegExp(`${n}="?([^",]*)"?`, 'i').exec(challenge)?.[1];
  const realm = param('realm') ?? '';
  const nonce = param('nonce') ?? '';
  const qop = /qop="?[^"]*\bauth\b/i.test(challenge) ? 'auth' : undefined;
  const ha1 = md5(`${o.user}:${realm}:${o.password}`);
  const ha2 = md5(`${o.method}:${o.uri}`);
  const cnonce = randomUUID().slice(0, 8);
  const response = qop ? md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${nonce}:${ha2}`);
  return `Digest username="${o.user}", realm="${realm}", nonce="${nonce}", uri="${o.uri}", response="${response}", algorithm=MD5`
    + (qop ? `, qop=auth, nc=00000001, cnonce="${cnonce}"` : '');
}

export interface RegisterInput {
  user: string;
  domain: string;
  password: string;
  /** The Contact URI the phone registers. */
  contact: string;
  callId: string;
  /** The CSeq to start from; the challenged retry takes the next. Returns the last one used. */
  cseq: number;
  expires: number;
}

/** REGISTER over the phone's connection, answering one 401; resolves with the final answer and the last CSeq. */
export async function registerPhone(phone: TcpPhone, r: RegisterInput): Promise<{ answer: string; cseq: number }> {
  const uri = `sip:${r.domain}`;
  let cseq = r.cseq;
  const build = (auth?: string) => [
    `REGISTER ${uri} SIP/2.0`,
    `Via: SIP/2.0/${phone.transport.toUpperCase()} 127.0.0.1:${phone.localPort};branch=z9hG4bK${randomUUID().slice(0, 12)};rport`,
    'Max-Forwards: 70',
    `From: <sip:${r.user}@${r.domain}>;tag=${r.callId.slice(0, 8)}`,
    `To: <sip:${r.user}@${r.domain}>`,
    `Call-ID: ${r.callId}`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <${r.contact}>`,
    `Expires: ${r.expires}`,
    ...(auth ? [`Authorization: ${auth}`] : []),
    'Content-Length: 0', '', '',
  ].join('\r\n');
  phone.send(build());
  let answer = await phone.next(/^SIP\/2\.0 [2-6]\d\d /);
  if (statusOf(answer) === 401) {
    cseq++;
    phone.send(build(digestAuthorization(headerOf(answer, 'WWW-Authenticate'), { user: r.user, password: r.password, method: 'REGISTER', uri })));
    answer = await phone.next(/^SIP\/2\.0 [2-6]\d\d /);
  }
  return { answer, cseq };
}

/** A 200 OK to a request the phone received: its Vias, Record-Routes, From, To (with a tag), Call-ID and CSeq. */
export function okTo(req: string, contact: string, body = ''): string {
  const lines = req.split('\r\n');
  const keep = lines.filter((l) => /^(via|v|record-route):/i.test(l));
  const to = headerOf(req, 'To');
  return ['SIP/2.0 200 OK', ...keep, `From: ${headerOf(req, 'From')}`, `To: ${/;tag=/.test(to) ? to : `${to};tag=phone1`}`,
    `Call-ID: ${headerOf(req, 'Call-ID')}`, `CSeq: ${headerOf(req, 'CSeq')}`, `Contact: <${contact}>`,
    ...(body ? ['Content-Type: application/sdp'] : []), `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n');
}
