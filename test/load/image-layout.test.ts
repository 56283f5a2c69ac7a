// The image's layout without Docker (no engine on these machines): the dist/ the Dockerfile builds, run as an
// unprivileged user from /app-like folders, the profiles read-only and pki/ the only place it writes, as
// docker-compose.yml mounts them. The Dockerfile and the compose file are read to check they say the same.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { freePort } from '../support/ports.js';
import { repoRoot, startNodeArgs } from '../support/trunkgate-process.js';

const NOBODY = 65534;

test('the Dockerfile and docker-compose.yml agree on the layout this test runs', () => {
  const docker = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  // The image starts node with the options `npm start` gives it (package.json), so both run the same process.
  const entrypoint = `ENTRYPOINT ${JSON.stringify(['node', ...startNodeArgs, 'dist/main.js']).replaceAll(',', ', ')}`;
  assert.ok(startNodeArgs.includes('--v8-pool-size=1'), `npm start's options: ${startNodeArgs.join(' ')}`);
  assert.ok(startNodeArgs.includes('--heap-growing-percent=200'), `npm start's options: ${startNodeArgs.join(' ')}`);
  for (const line of ['WORKDIR /app', 'USER node', 'VOLUME ["/app/pki"]', entrypoint, 'ENV NODE_ENV=production TRUNKGATE_PROFILES=/app/profiles']) {
    assert.ok(docker.split('\n').includes(line), `Dockerfile: ${line}`);
  }
  assert.match(docker, /^HEALTHCHECK [^\n]*\\\n\s*CMD .*\/health/m);
  assert.match(docker, /^FROM node:20-bookworm-slim AS build$/m);
  const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: { trunkgate: { build: string; volumes: string[] } } };
  assert.equal(compose.services.trunkgate.build, '.');
  assert.deepEqual(compose.services.trunkgate.volumes, ['./profiles:/app/profiles:ro', 'trunkgate-pki:/app/pki']);
});

// Docker's own parser, without a Docker engine: Debian's docker-compose (1.29) reads and checks the file and its
// profiles with `config`, which needs no daemon (scripts/ensure-peers.sh installs it without the engine).
test('docker-compose config accepts the file: the single gateway by default, the cluster profile with kamailio and three gateways whose profiles pass config check', { timeout: 60_000 }, async () => {
  const bin = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((f) => existsSync(f));
  assert.ok(bin, 'docker-compose is missing: apt-get install -y --no-install-recommends docker-compose (scripts/ensure-peers.sh does this as root)');
  const compose = (...args: string[]) => promisify(execFile)(bin, ['-f', join(repoRoot, 'docker-compose.yml'), ...args],
    { cwd: repoRoot, timeout: 30_000, env: { ...process.env, TRUNKGATE_ADMIN_TOKEN: '' } });
  await compose('config', '-q');
  const cluster = parse((await compose('--profile', 'cluster', 'config')).stdout) as { services: Record<string, { profiles?: string[]; volumes: string[] }> };
  // docker-compose 1.29 prints volumes as source:target:mode, with bind-mount sources made absolute.
  const mounts = (svc: string): Array<{ source: string; target: string }> =>
    cluster.services[svc]!.volumes.map((v) => ({ source: v.split(':')[0]!, target: v.split(':')[1]! }));
  // `up` alone starts the single gateway; the cluster's services only with --profile cluster.
  const profiles = Object.fromEntries(Object.entries(cluster.services).map(([name, svc]) => [name, svc.profiles ?? []]));
  // (docker-compose 1.29's config prints every service, whatever profile is named.)
  assert.deepEqual(profiles, { trunkgate: [], lb: ['cluster'], gw1: ['cluster'], gw2: ['cluster'], gw3: ['cluster'], drachtio: ['drachtio'], b2bua: ['drachtio'] });
  for (const gw of ['gw1', 'gw2', 'gw3']) {
    const mount = mounts(gw).find((v) => v.target === '/app/profiles');
    assert.equal(mount?.source, join(repoRoot, 'deploy', 'cluster', gw));
    const check = await promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'main.js'), 'config', 'check', mount!.source], { cwd: repoRoot, timeout: 30_000 });
    assert.match(check.stdout, /: OK \(/, `${gw}: ${check.stdout}`);
  }
  const lb = mounts('lb').map((v) => v.source);
  for (const f of lb) assert.ok(existsSync(f), `the kamailio volume ${f} is in the repository`);
  // The TLS files kamailio reads are the administrator's (never committed); the folder's README names each one.
  const tlsCfg = readFileSync(join(repoRoot, 'deploy', 'cluster', 'tls.cfg'), 'utf8');
  const tlsReadme = readFileSync(join(repoRoot, 'deploy', 'cluster', 'tls', 'README.md'), 'utf8');
  const named = [...tlsCfg.matchAll(/\/etc\/kamailio\/tls\/(\S+)/g)].map((m) => m[1]!);
  assert.ok(named.length >= 3, `tls.cfg names its files: ${named}`);
  for (const f of named) assert.ok(tlsReadme.includes(`\`${f}\``), `deploy/cluster/tls/README.md names ${f}`);
});

// The drachtio profile: drachtio-server from a pinned image with its config file from deploy/drachtio, and the b2bua
// built from this repository with deploy/drachtio as its profiles (engine mode external, the control port drachtio
// listens on), both on the host's network and reading the secret from the same variable.
test('docker-compose config: the drachtio profile runs drachtio-server and the b2bua against it, whose profiles pass config check', { timeout: 60_000 }, async () => {
  const bin = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((f) => existsSync(f));
  assert.ok(bin, 'docker-compose is missing: apt-get install -y --no-install-recommends docker-compose (scripts/ensure-peers.sh does this as root)');
  const { stdout } = await promisify(execFile)(bin, ['-f', join(repoRoot, 'docker-compose.yml'), '--profile', 'drachtio', 'config'],
    { cwd: repoRoot, timeout: 30_000, env: { ...process.env, TRUNKGATE_ADMIN_TOKEN: '', DRACHTIO_SECRET: 'compose-check', DRACHTIO_IMAGE: '' } });
  type Svc = { profiles?: string[]; image?: string; build?: { context: string }; network_mode?: string; command?: string[];
    environment?: Record<string, string>; volumes: string[]; depends_on?: Record<string, unknown> };
  const { services } = parse(stdout) as { services: Record<string, Svc> };
  const drachtio = services['drachtio']!;
  const b2bua = services['b2bua']!;
  assert.match(drachtio.image ?? '', /^drachtio\/drachtio-server:\d+\.\d+\.\d+$/, 'a pinned drachtio-server tag');
  assert.deepEqual([drachtio.network_mode, b2bua.network_mode], ['host', 'host']);
  assert.equal(b2bua.build?.context, repoRoot.replace(/\/$/, ''));
  assert.ok(b2bua.depends_on && 'drachtio' in b2bua.depends_on);
  assert.deepEqual([drachtio.environment?.['DRACHTIO_SECRET'], b2bua.environment?.['DRACHTIO_SECRET']], ['compose-check', 'compose-check'], 'one secret for both');
  const mounts = (s: Svc) => Object.fromEntries(s.volumes.map((v) => [v.split(':')[1]!, v.split(':')[0]!]));
  const conf = mounts(drachtio)['/etc/drachtio.conf.xml'];
  assert.equal(conf, join(repoRoot, 'deploy', 'drachtio', 'drachtio.conf.xml'));
  const profilesMount = mounts(b2bua)['/app/profiles'];
  assert.equal(profilesMount, join(repoRoot, 'deploy', 'drachtio'));
  // What drachtio-server listens on is what the b2bua's profiles expect: SIP on 5060 udp and tcp, control on loopback 9022.
  const xml = readFileSync(conf!, 'utf8');
  assert.match(xml, /<admin port="9022">127\.0\.0\.1<\/admin>/);
  assert.match(xml, /<contact>sip:[^<]+:5060;transport=udp,tcp<\/contact>/);
  assert.doesNotMatch(xml, /secret=/, 'the secret comes from DRACHTIO_SECRET, never the file');
  const gateway = parse(readFileSync(join(profilesMount!, 'gateway.yaml'), 'utf8')) as { gateway: { engine: Record<string, unknown> } };
  assert.deepEqual(gateway.gateway.engine, { mode: 'external', host: '127.0.0.1', port: 9022, secretEnv: 'DRACHTIO_SECRET' });
  const check = await promisify(execFile)(process.execPath, [join(repoRoot, 'dist', 'main.js'), 'config', 'check', profilesMount!], { cwd: repoRoot, timeout: 30_000 });
  assert.match(check.stdout, /: OK \(/, check.stdout);
});

test('dist/ run as an unprivileged user with read-only profiles: it makes its CA and trustpoint in pki/ and answers /health', { timeout: 120_000 }, async (t) => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root (the CI machine does) to start the gateway as another user');
  const root = mkdtempSync(join(tmpdir(), 'tg-image-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  chmodSync(root, 0o755);
  const app = join(root, 'app');
  await promisify(execFile)(process.execPath, [join(repoRoot, 'scripts/build.mjs'), '--outdir', join(app, 'dist'), '--quiet'],
    { cwd: repoRoot, timeout: 90_000 });
  cpSync(join(repoRoot, 'package.json'), join(app, 'package.json'));
  symlinkSync(join(repoRoot, 'node_modules'), join(app, 'node_modules'));
  const adminPort = await freePort();
  mkdirSync(join(app, 'profiles'));
  writeFileSync(join(app, 'profiles', 'gateway.yaml'), `
gateway:
  domain: gw.image.test
  listen:
    - { transport: udp, host: 127.0.0.1, port: 0 }
    - { transport: tls, host: 127.0.0.1, port: 0, tlsProfile: edge }
  defaultTenant: pbx
  engine: { mode: embedded, control: { host: 127.0.0.1, port: 0 } }
  admin: { enabled: true, host: 127.0.0.1, port: ${adminPort} }
trustpoints:
  gw: { dir: ../pki/trustpoints/gw }
tlsProfiles:
  edge: { trustpoint: gw }
tenants:
  pbx: { transport: udp, trustedSources: [127.0.0.0/8] }
`);
  chmodSync(join(app, 'profiles'), 0o555);
  mkdirSync(join(app, 'pki'));
  chownSync(join(app, 'pki'), NOBODY, NOBODY);
  const child = spawn(process.execPath, [...startNodeArgs, 'dist/main.js', 'start'], {
    cwd: app, uid: NOBODY, gid: NOBODY, stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', TRUNKGATE_PROFILES: join(app, 'profiles'), TRUNKGATE_LOG_LEVEL: 'info' },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => {
    child.kill('SIGINT');
    const k = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(k);
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no admin API line in 60 s:\n${lines.join('\n')}\n${stderr}`)), 60_000);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}:\n${lines.join('\n')}\n${stderr}`)); });
    createInterface({ input: child.stdout }).on('line', (l) => {
      lines.push(l);
      if (l.includes('admin API on')) { clearTimeout(timer); resolve(); }
    });
  });
  const health = await fetch(`http://127.0.0.1:${adminPort}/health`);
  assert.equal(health.status, 200);
  for (const [file, mode] of [['pki/ca/ca.key', 0o600], ['pki/trustpoints/gw/key.pem', 0o600], ['pki/trustpoints/gw/cert.pem', 0o644]] as const) {
    const st = statSync(join(app, file));
    assert.equal(st.uid, NOBODY, `${file} belongs to the gateway's user`);
    assert.equal(st.mode & 0o777, mode, file);
  }
  assert.ok(lines.some((l) => l.includes('created a local CA and trustpoint gw')), lines.join('\n'));
});
