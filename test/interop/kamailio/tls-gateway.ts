// The gateway under test for the kamailio TLS cases: the engine in this thread (so its transport counters and
// log can be read) with a UDP and a TLS listener, and the b2bua bridging every call to one target.
import { Writable } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import { startB2bua, type B2buaApp } from '../../../src/b2bua/index.js';
import { startEngine, type Engine } from '../../../src/engine/index.js';
import { createLogger } from '../../../src/log/index.js';

export interface TlsGateway {
  engine: Engine;
  b2bua: B2buaApp;
  udpPort: number;
  tlsPort: number;
  /** The engine's log lines (pino JSON, debug level), parsed. */
  logLines(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startTlsGateway(o: { tls: TlsOptions; target: string }): Promise<TlsGateway> {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (lines.length < 20_000) lines.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level: 'debug', destination: sink });
  const secret = 'kamailio-interop-secret';
  const engine = await startEngine({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tls', host: '127.0.0.1', port: 0, tls: o.tls },
    ],
    control: { host: '127.0.0.1', port: 0, secret },
    log,
  });
  const addresses = engine.addresses()!;
  let b2bua: B2buaApp;
  try {
    b2bua = await startB2bua({ engine: { host: '127.0.0.1', port: addresses.control.port, secret }, target: o.target, log });
  } catch (e) {
    await engine.close();
    throw e;
  }
  const portOf = (p: 'udp' | 'tls'): number => addresses.sip.find((l) => l.protocol === p)!.port;
  let closing: Promise<void> | undefined;
  return {
    engine,
    b2bua,
    udpPort: portOf('udp'),
    tlsPort: portOf('tls'),
    logLines: () => lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, unknown>];
      } catch {
        return [];
      }
    }),
    close: () => {
      closing ??= (async () => {
        await b2bua.close();
        await engine.close();
      })();
      return closing;
    },
  };
}
