/**
 * The anchor: drachtio-server, built from source by bench/anchor/build-drachtio-server.sh into a scratch folder,
 * with the smallest drachtio-srf createB2BUA app (bench/anchor/srf-b2bua-app.mjs), between the same two sipps as
 * the gateway. Its CPU is drachtio-server's plus the app's (node), each read from /proc like the gateway's.
 * drachtio.conf.xml is written per start into the scratch folder: UDP on loopback only, the admin port the app
 * connects to, no file log, no Prometheus listener, console log at error level only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startSippUas } from '../../test/support/sipp.js';
import { sippBuffers, uasScenario, waitReady, type Target } from '../sipp-targets.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
const anchorDir = process.env.ANCHOR_DIR ? resolve(process.env.ANCHOR_DIR) : join(repoRoot, '.tmp', 'anchor');
export const drachtioBinary = join(anchorDir, 'bin', 'drachtio');
const buildCommand = `${process.env.ANCHOR_DIR ? `ANCHOR_DIR=${process.env.ANCHOR_DIR} ` : ''}` +
  `bash ${relative(process.cwd(), join(here, 'build-drachtio-server.sh')) || 'bench/anchor/build-drachtio-server.sh'}`;
/** drachtio-server's UDP socket buffers: the 16 MiB trunkgate's UDP listener asks for by default. */
const udpBufferBytes = 16 * 1024 * 1024;

function config(sipPort: number, adminPort: number, secret: string): string {
  return `<drachtio>
  <admin port="${adminPort}" secret="${secret}">127.0.0.1</admin>
  <sip>
    <contacts>
      <contact>sip:127.0.0.1:${sipPort};transport=udp</contact>
    </contacts>
    <udp-buffer-size>${udpBufferBytes}</udp-buffer-size>
  </sip>
  <cdrs>false</cdrs>
  <logging>
    <console/>
    <sofia-loglevel>0</sofia-loglevel>
    <loglevel>error</loglevel>
  </logging>
</drachtio>
`;
}

/** Keeps the last 4 KB a child writes, for the error when it exits early; the pipe is always drained. */
function tail(child: ChildProcess): () => string {
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => out.trim();
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      done();
    });
    child.kill('SIGTERM');
  });
}

let run = 0;

export const drachtioAnchor: Target = {
  name: 'sipp → drachtio-server + srf createB2BUA app (anchor) → sipp',
  check() {
    if (existsSync(drachtioBinary)) return;
    console.error(`drachtio-anchor: ${drachtioBinary} is missing; build drachtio-server from source first ` +
      `(about 20–40 min on 2 cores):\n\n  ${buildCommand}\n`);
    process.exit(2);
  },
  async start() {
    const uas = await startSippUas({ scenario: { file: uasScenario }, extraArgs: sippBuffers });
    const sipPort = await freePort();
    const adminPort = await freePort();
    const secret = 'bench-anchor';
    const dir = join(anchorDir, 'run', `${process.pid}-${++run}`);
    mkdirSync(dir, { recursive: true });
    const conf = join(dir, 'drachtio.conf.xml');
    writeFileSync(conf, config(sipPort, adminPort, secret));
    const server = spawn(drachtioBinary, ['-f', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const serverOut = tail(server);
    let app: ChildProcess | undefined;
    const stop = async (): Promise<void> => {
      app?.stdin?.end();
      await stopChild(app);
      await stopChild(server);
      await uas.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      const serverExit = new Promise<never>((_, fail) => server.once('exit', (code) =>
        fail(new Error(`drachtio-server exited with ${code}: ${serverOut().split('\n').slice(-3).join(' / ')}`))));
      serverExit.catch(() => {});
      app = spawn(process.execPath, [join(here, 'srf-b2bua-app.mjs'), '--admin', `127.0.0.1:${adminPort}`,
        '--secret', secret, '--target', `127.0.0.1:${uas.port}`], { stdio: ['pipe', 'pipe', 'inherit'] });
      await Promise.race([waitReady(app, 'drachtio-srf app'), serverExit]);
    } catch (err) {
      await stop();
      throw err;
    }
    return {
      remote: `127.0.0.1:${sipPort}`,
      pids: { 'drachtio-server': server.pid ?? -1, 'srf app': app.pid ?? -1, 'sipp UAS': uas.pid },
      stop,
    };
  },
};
