/**
 * The gateway under load, in its own process so its CPU can be read from /proc: the engine plus the b2bua
 * bridging every call to --target. Prints `ready <sipPort>` when calls can be sent.
 * Usage: node --import tsx bench/gateway-process.ts --sip 127.0.0.1:<port> --control <port> --target 127.0.0.1:<port>
 * The engine API is read at run time (startEngine({ control, listen, log }) from src/engine/index.ts).
 */
import { startB2bua } from '../src/b2bua/index.js';
import { createLogger, silentLogger } from '../src/log/index.js';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`missing --${name}`);
  return v;
}

const [sipHost, sipPort] = arg('sip').split(':') as [string, string];
const controlPort = Number(arg('control'));
const secret = 'bench-secret';
const log = process.env.TRUNKGATE_LOG_LEVEL ? createLogger({ destination: process.stderr }) : silentLogger();

type StartEngine = (opts: {
  control: { host: string; port: number; secret: string };
  listen: Array<{ transport: 'udp' | 'tcp'; host: string; port: number }>;
  log: typeof log;
}) => Promise<{ close(): Promise<void> | void }>;

const mod = (await import('../src/engine/index.js')) as Record<string, unknown>;
const startEngine = mod.startEngine as StartEngine | undefined;
if (typeof startEngine !== 'function') {
  console.error('gateway: src/engine/index.ts does not export startEngine({ control, listen, log }) yet');
  process.exit(3);
}
const engine = await startEngine({
  control: { host: '127.0.0.1', port: controlPort, secret },
  listen: [{ transport: 'udp', host: sipHost, port: Number(sipPort) }],
  log,
});
const app = await startB2bua({ engine: { host: '127.0.0.1', port: controlPort, secret }, target: arg('target'), log });
process.stdout.write(`ready ${sipPort}\n`);
process.stdin.resume();
process.stdin.on('data', (d) => {
  if (d.toString().includes('stats')) process.stdout.write(`stats ${JSON.stringify(app.stats())}\n`);
});
const stop = async (): Promise<void> => {
  await app.close();
  await engine.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
