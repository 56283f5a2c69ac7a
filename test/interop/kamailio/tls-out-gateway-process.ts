// A gateway process for the outbound-TLS case: the engine (UDP and TLS listeners) plus a minimal drachtio-srf
// app that bridges every INVITE to one SIP URI, which may say `;transport=tls`. It runs as a child process
// because the engine's outbound TLS trust is Node's default CA store, which only NODE_EXTRA_CA_CERTS (read at
// process start) can extend. Input: a JSON object in argv[2]. Output: one `READY <json>` line on stdout, then
// a `STATS <json>` line when it gets SIGTERM, before it exits.
import { readFileSync } from 'node:fs';
import Srf from 'drachtio-srf';
import { startEngine } from '../../../src/engine/index.js';
import { silentLogger } from '../../../src/log/index.js';

interface Input {
  keyPath: string;
  certPath: string;
  /** The B-leg Request-URI's host part onward, e.g. `localhost:5061;transport=tls`. */
  target: string;
}

interface Leg {
  connected?: boolean;
  on(event: 'destroy', listener: () => void): unknown;
  destroy(): unknown;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const secret = 'kamailio-tls-out-secret';
const engine = await startEngine({
  listen: [
    { transport: 'udp', host: '127.0.0.1', port: 0 },
    { transport: 'tls', host: '127.0.0.1', port: 0, tls: { key: readFileSync(input.keyPath), cert: readFileSync(input.certPath) } },
  ],
  control: { host: '127.0.0.1', port: 0, secret },
  log: silentLogger(),
});
const addresses = engine.addresses()!;
const stats = { attempted: 0, connected: 0, failed: [] as number[] };

const srf = new Srf();
srf.on('error', () => undefined);
srf.invite((req, res) => {
  stats.attempted++;
  const user = /^sips?:([^@;?>]+)@/i.exec((req as unknown as { uri: string }).uri)?.[1];
  const uri = `sip:${user ? `${user}@` : ''}${input.target}`;
  (srf as unknown as { createB2BUA(a: unknown, b: unknown, uri: string, o: object): Promise<{ uas: Leg; uac: Leg }> })
    .createB2BUA(req, res, uri, {})
    .then(({ uas, uac }) => {
      stats.connected++;
      uas.on('destroy', () => uac.destroy());
      uac.on('destroy', () => uas.destroy());
      // A BYE read together with the messages that completed the call was handled by drachtio-srf before these
      // listeners existed (docs/control-protocol.md §6): the leg is already gone, so the other one is ended here.
      if (uas.connected === false) uac.destroy();
      else if (uac.connected === false) uas.destroy();
    })
    .catch((err: { status?: number }) => {
      stats.failed.push(err.status ?? 0);
    });
});
await new Promise<void>((ok, fail) => {
  srf.on('connect', (err: Error | null) => (err ? fail(err) : ok()));
  srf.connect({ host: '127.0.0.1', port: addresses.control.port, secret });
});

process.on('SIGTERM', () => {
  process.stdout.write(`STATS ${JSON.stringify(stats)}\n`, () => {
    try {
      srf.disconnect();
    } catch {
      // already gone
    }
    void engine.close().finally(() => process.exit(0));
  });
});
const port = (p: 'udp' | 'tls'): number => addresses.sip.find((l) => l.protocol === p)!.port;
process.stdout.write(`READY ${JSON.stringify({ udpPort: port('udp'), tlsPort: port('tls') })}\n`);
