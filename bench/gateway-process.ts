/**
 * The gateway under load, in its own process so its CPU can be read from /proc: the engine plus the b2bua
 * bridging every call to --target. Prints `ready <sipPort>` when calls can be sent.
 * Usage: node --import tsx bench/gateway-process.ts --sip 127.0.0.1:<port> --control <port> --target 127.0.0.1:<port> [--policy]
 *        [--product dist|src] [--repo DIR]
 * The benches run it transpiled, without tsx, for the product from dist/ (bench/gateway-script.ts); --repo then
 * says where the repository is.
 * --policy: every call runs the full policy pipeline (tenant of the listener, permissions over the built-in
 * categories, number category, permission check, dial peer, B leg) with one dial peer to --target.
 * --tls 127.0.0.1:<port> --tls-files DIR: also a TLS listener for the tenant `carrier`, served by a TLS profile
 * built from DIR/key.pem, DIR/cert.pem, DIR/chain.pem (the gateway's trustpoint) and DIR/client-ca.pem (mutual
 * TLS: the client certificate must come from that CA and name sbc.carrier.test, a TLS peer with the defaults).
 * --tls-out (with --tls-files DIR): the B legs go to --target over TLS, through the TLS profile `pbx-out`: the same
 * trustpoint as the client certificate, DIR/pbx-ca.pem as the trust store, the server's identity checked (fail
 * closed) against the target's address.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { B2buaPolicy } from '../src/b2bua/index.js';
import type { ProfileInput } from '../src/tls/index.js';

// The product as `npm start` runs it: JavaScript built into dist/ by scripts/build.mjs (--product dist, the default), or the
// TypeScript sources through tsx (--product src), where every closure gets a naming wrapper production does not pay.
const product = process.argv.includes('--product') ? process.argv[process.argv.indexOf('--product') + 1] : 'dist';
const repo = process.argv.includes('--repo') ? process.argv[process.argv.indexOf('--repo') + 1]! : fileURLToPath(new URL('..', import.meta.url));
const root = pathToFileURL(join(repo, product === 'src' ? 'src' : 'dist')).href;
const { BUILTIN_CATEGORIES, DEFAULT_PREWARM_CALLS } = await import(`${root}/config/index.js`) as typeof import('../src/config/index.js');
const { startGateway } = await import(`${root}/gateway.js`) as typeof import('../src/gateway.js');
const { createLogger, silentLogger } = await import(`${root}/log/index.js`) as typeof import('../src/log/index.js');

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`missing --${name}`);
  return v;
}

const [sipHost, sipPort] = arg('sip').split(':') as [string, string];
const controlPort = Number(arg('control'));
const secret = 'bench-secret';
const tlsAt = process.argv.includes('--tls') ? arg('tls').split(':') as [string, string] : undefined;
const tlsListen = tlsAt
  ? [{ transport: 'tls' as const, host: tlsAt[0], port: Number(tlsAt[1]), tenant: 'carrier', tlsProfile: 'edge' }]
  : [];
const tlsOut = process.argv.includes('--tls-out');
const tlsProfiles: ProfileInput[] = [];
const read = (f: string): string => readFileSync(join(arg('tls-files'), f), 'utf8');
if (tlsAt) {
  tlsProfiles.push({
    spec: {
      name: 'edge', tenant: 'carrier', minVersion: 'TLSv1.2', requireClientCertificate: true,
      cnSanValidate: 'client', cnSan: ['sbc.carrier.test'],
    },
    material: {
      trustpoint: { keyPem: read('key.pem'), certPem: read('cert.pem'), chainPems: [read('chain.pem')] },
      trustedCaPems: [read('client-ca.pem')],
    },
  });
}
if (tlsOut) {
  tlsProfiles.push({
    spec: { name: 'pbx-out', tenant: 'trunk', minVersion: 'TLSv1.2' },
    material: {
      trustpoint: { keyPem: read('key.pem'), certPem: read('cert.pem'), chainPems: [read('chain.pem')] },
      trustedCaPems: [read('pbx-ca.pem')],
    },
  });
}
const log = process.env.TRUNKGATE_LOG_LEVEL ? createLogger({ destination: process.stderr }) : silentLogger();

// The same composition as `npm start`: the engine in a worker thread (second core), the b2bua in this one.
// --same-thread runs both in one thread, for comparison.
const sameThread = process.argv.includes('--same-thread');
const policy: B2buaPolicy | undefined = process.argv.includes('--policy')
  ? {
    tenants: {
      pbx: { transport: 'udp' },
      trunk: tlsOut ? { transport: 'tls' as const, sipServer: arg('target'), tlsProfile: 'pbx-out' } : { transport: 'udp' as const, sipServer: arg('target') },
      ...(tlsAt ? { carrier: { transport: 'tls' as const } } : {}),
    },
    listeners: [{ transport: 'udp', host: sipHost, port: Number(sipPort), tenant: 'pbx' }, ...tlsListen],
    categories: BUILTIN_CATEGORIES,
    tlsPeers: tlsAt ? { 'sbc.carrier.test': { permissions: {} } } : {},
    dialPeers: [{ id: 'all', destinationPattern: '.', tenant: 'trunk', from: tlsAt ? ['pbx', 'carrier'] : ['pbx'] }],
  }
  : undefined;
const gw = await startGateway({
  control: { host: '127.0.0.1', port: controlPort, secret },
  listen: [{ transport: 'udp', host: sipHost, port: Number(sipPort), tenant: 'pbx' }, ...tlsListen],
  ...(tlsProfiles.length > 0 ? { tls: { profiles: tlsProfiles } } : {}),
  // sipp's UAC is one source carrying what a PBX or a carrier's SBC offers in all, so the per-source limit of new
  // requests (gateway.limits.requestsPerSecondPerSource, 500/s by default) is off, as an administrator sets it for
  // such a trusted peer; with it, every step above 500 calls/s would end in that limit's 503s, not in the
  // gateway's capacity.
  limits: { transport: { requestsPerSecondPerSource: 0 } },
  ...(policy ? { policy } : { target: arg('target') }),
  // --apps N: the policy pipeline as N b2bua apps (this thread's and N-1 worker threads), as gateway.workers does.
  ...(process.argv.includes('--apps') ? { apps: Number(arg('apps')) } : {}),
  log,
  engineInWorker: !sameThread,
  // --pretenuring: V8's allocation-site pretenuring left on, to compare (src/common/young-calls.ts).
  ...(process.argv.includes('--pretenuring') ? { pretenuring: true } : {}),
  // Synthetic calls through a throwaway core before the listeners open, as gateway.engine.prewarmCalls: its default,
  // as `npm start` runs it, unless --prewarm N says otherwise (--prewarm 0: none).
  prewarmCalls: process.argv.includes('--prewarm') ? Number(arg('prewarm')) : DEFAULT_PREWARM_CALLS,
  ...(process.env.TRUNKGATE_LOG_LEVEL ? { logLevel: process.env.TRUNKGATE_LOG_LEVEL } : { logLevel: 'silent' }),
});
const app = gw.b2bua;
process.stdout.write(`ready ${sipPort}\n`);
process.stdin.resume();
process.stdin.on('data', (d) => {
  if (d.toString().includes('stats')) process.stdout.write(`stats ${JSON.stringify(app.stats())}\n`);
  // The engine's overload counters (shed INVITEs and why), which the bench prints for a failing step.
  if (d.toString().includes('overload')) void gw.engineSnapshot().then((s) => process.stdout.write(`overload ${JSON.stringify(s.overload)}\n`));
});
const stop = async (): Promise<void> => {
  await gw.close();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
