/**
 * Starts one trunkgate engine for the drachtio-srf suite: SIP on one UDP address, the drachtio control
 * protocol on 127.0.0.1. Prints `ready` on stdout once both listen; runs until killed.
 * Usage: node --import tsx scripts/srf-suite/start-engine.ts --sip 127.0.0.1:5060 --control 127.0.0.1:9022 --secret cymru
 *
 * The engine API is read at run time so this file builds before the engine exists; it expects
 * `startEngine({ control: {host, port, secret}, listen: [{transport, host, port}], log })` → `{ close() }`
 * from src/engine/index.ts, and fails with a precise message when that is not there.
 */
import { createLogger } from '../../src/log/index.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`missing --${name}`);
  return v;
}

function hostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(':');
  return { host: v.slice(0, i), port: Number(v.slice(i + 1)) };
}

interface EngineHandle {
  close(): Promise<void> | void;
}
type StartEngine = (opts: {
  control: { host: string; port: number; secret: string; maxApps?: number };
  listen: Array<{ transport: 'udp' | 'tcp'; host: string; port: number }>;
  log: ReturnType<typeof createLogger>;
}) => Promise<EngineHandle>;

const sip = hostPort(arg('sip'));
const control = hostPort(arg('control'));
const secret = arg('secret');
const log = createLogger({ level: process.env.TRUNKGATE_LOG_LEVEL ?? 'warn', destination: process.stderr });

const mod = (await import('../../src/engine/index.js')) as Record<string, unknown>;
const startEngine = mod.startEngine as StartEngine | undefined;
if (typeof startEngine !== 'function') {
  console.error('srf-suite: src/engine/index.ts does not export startEngine({ control, listen, log }) yet');
  process.exit(3);
}
const engine = await startEngine({
  // The suite connects several drachtio-srf apps at once (b2b, proxy and refer tests); the gateway's default is one.
  control: { ...control, secret, maxApps: 64 },
  listen: [{ transport: 'udp', ...sip }, { transport: 'tcp', ...sip }],
  log,
});
process.stdout.write(`ready sip=${sip.host}:${sip.port} control=${control.host}:${control.port}\n`);
const stop = async (): Promise<void> => {
  await engine.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
