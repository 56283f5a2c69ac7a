/**
 * The real engine with a real drachtio-srf app on loopback, and raw UDP peers that may sit on any 127.0.0.x
 * address: enough to tell the caller, the callee and a third host apart by their source address.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import Srf from 'drachtio-srf';
import { startEngine, type Engine } from '../../src/engine/index.js';

const SECRET = 'relay-secret';

export interface LooseReq { uri: string; get(h: string): string | undefined }
export interface LooseRes { send(status: number, opts?: { body?: string; headers?: Record<string, string> }): void }
export interface LooseSrf {
  on(event: 'connect', fn: (err: Error | null, hostport: string) => void): void;
  on(event: 'error', fn: () => void): void;
  connect(opts: { host: string; port: number; secret: string }): void;
  invite(fn: (req: LooseReq, res: LooseRes) => void): void;
  proxyRequest(req: LooseReq, dest: string[], opts: { recordRoute: boolean }): void;
  createUAS(req: LooseReq, res: LooseRes, opts: { localSdp: string }): Promise<unknown>;
  disconnect(): void;
}
interface SrfInternals { _app: { client: { wp: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } } }

export interface Rig {
  engine: Engine;
  sipPort: number;
  stats(): Record<string, number>;
  close(): Promise<void>;
}

/** A drachtio-srf app on the engine's control port; `stop` disconnects it for good (no reconnect). */
export async function srfApp(port: number, setup: (s: LooseSrf) => void, secret: string): Promise<{ stop(): void }> {
  const real = new Srf();
  const srf = real as unknown as LooseSrf;
  srf.on('error', () => undefined);
  setup(srf);
  const stop = (): void => {
    const wp = (real as unknown as SrfInternals)._app.client.wp;
    wp.closing = true;
    if (wp.reconnectVars?.retryTimer) clearTimeout(wp.reconnectVars.retryTimer);
    try {
      real.disconnect();
    } catch {
      // no socket up
    }
  };
  await new Promise<void>((resolve, reject) => {
    srf.on('connect', (err) => (err ? (stop(), reject(err)) : resolve()));
    srf.connect({ host: '127.0.0.1', port, secret });
  });
  return { stop };
}

/** The engine on 127.0.0.1 (UDP) with one drachtio-srf app that `setup` wires. */
export async function relayRig(setup: (srf: LooseSrf) => void): Promise<Rig> {
  const engine = await startEngine({
    listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
    control: { host: '127.0.0.1', port: 0, secret: SECRET },
  });
  const a = engine.addresses()!;
  const app = await srfApp(a.control.port, setup, SECRET);
  // The app's routes travel after its connect: INVITEs reach it once it routes them.
  await until(() => engine.registry.selectApp('invite') !== undefined);
  const core = engine.core as unknown as { stats(): Record<string, number> };
  return {
    engine, sipPort: a.sip[0]!.port, stats: () => core.stats(),
    close: async () => {
      app.stop();
      await engine.close();
    },
  };
}

/** A raw SIP peer on UDP at `address`: sends text, keeps every message it receives, may answer some. */
export class Peer {
  readonly messages: string[] = [];
  #waiters: (() => void)[] = [];
  onMessage: ((m: string, from: { address: string; port: number }) => void) | undefined;

  private constructor(readonly socket: Socket, readonly address: string, readonly port: number) {}

  static async open(address: string): Promise<Peer> {
    const s = createSocket('udp4');
    s.bind(0, address);
    await once(s, 'listening');
    const p = new Peer(s, address, s.address().port);
    s.on('message', (b, rinfo) => {
      const m = b.toString('utf8');
      p.messages.push(m);
      p.onMessage?.(m, rinfo);
      for (const w of p.#waiters.splice(0)) w();
    });
    return p;
  }

  send(text: string, port: number, address = '127.0.0.1'): void {
    this.socket.send(Buffer.from(text), port, address);
  }

  /** The first message matching `re` (from the start), within `ms`. */
  async waitFor(re: RegExp, ms = 3_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.find((x) => re.test(x));
      if (m !== undefined) return m;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message matching ${re} within ${ms} ms; got: ${this.messages.map((x) => x.split('\r\n')[0]).join(' | ')}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

export const header = (m: string, name: string): string | undefined => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(m)?.[1]?.trim();

export const tagIn = (value: string | undefined): string | undefined => (value === undefined ? undefined : /;tag=([^;\s]+)/.exec(value)?.[1]);

/** The response to `req` with its Via stack, a To tag when it has none, and extra lines (Contact, Record-Route). */
export function answer(req: string, status: string, toTag: string, extra: string[] = []): string {
  const vias = req.split('\r\n').filter((l) => /^Via:/i.test(l));
  const to = header(req, 'To')!;
  return [`SIP/2.0 ${status}`, ...vias, `From: ${header(req, 'From')}`, `To: ${to.includes(';tag=') ? to : `${to};tag=${toTag}`}`,
    `Call-ID: ${header(req, 'Call-ID')}`, `CSeq: ${header(req, 'CSeq')}`, ...extra, 'Content-Length: 0', '', ''].join('\r\n');
}

/** Waits (bounded) until `cond` holds. */
export async function until(cond: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
