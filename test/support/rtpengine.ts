/**
 * Runs rtpengine (Debian `rtpengine-daemon`) as a media relay on loopback, in user space: no kernel forwarding
 * table (`--table=-1`), in the foreground, its ng control socket on a loopback port, its media ports in a block
 * checked free on 127.0.0.1, its config and pid file in a temporary directory, and no system service.
 *
 *   const rtpe = await startRtpengine();
 *   t.after(() => rtpe.stop());
 *   // rtpe.ng = { host: '127.0.0.1', port }
 *
 * The binary is installed with apt-get when it is missing and the user is root (as scripts/ensure-peers.sh does);
 * otherwise the start fails naming the command. It is stopped by its process id (SIGTERM, then SIGKILL).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childStopper } from './child-stop.js';
import { requireDebianPeer } from './debian-peer.js';
import { freePort, freeUdpBlock } from './ports.js';

const LOG_CAP = 2 * 1024 * 1024;

export interface RtpengineOptions {
  /** Loopback address of the ng socket and the media ports (default 127.0.0.1). */
  host?: string;
  /** ng control port; a free one is picked when omitted. */
  ngPort?: number;
  /** How many media ports (default 64: 16 calls of two legs with RTP and RTCP). */
  mediaPorts?: number;
  /** rtpengine's log level (default 6, info). */
  logLevel?: number;
  /** How long to wait for the first ng ping to be answered (default 10,000 ms). */
  startTimeoutMs?: number;
  extraArgs?: string[];
}

export interface RtpengineProcess {
  pid: number;
  ng: { host: string; port: number };
  /** The media port range it was given. */
  portMin: number;
  portMax: number;
  /** What it printed (the last 2 MB). */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; removes its directory. Idempotent. */
  stop(): Promise<void>;
}

let checked = false;

/** Makes sure `rtpengine` is on PATH: installs Debian's rtpengine-daemon as root, else fails naming the command. */
export function requireRtpengine(): void {
  if (checked) return;
  requireDebianPeer({
    name: 'rtpengine', pkg: 'rtpengine-daemon',
    probe: () => !spawnSync('rtpengine', ['--version'], { encoding: 'utf8' }).error,
    afterInstall: () => void spawnSync('systemctl', ['disable', '--now', 'rtpengine-daemon'], { encoding: 'utf8' }),
  });
  checked = true;
}

/** The version rtpengine reports, e.g. '10.5.3.5-1+deb12u1'. */
export function rtpengineVersion(): string {
  const v = spawnSync('rtpengine', ['--version'], { encoding: 'utf8' });
  return /Version:\s*(\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1] ?? 'unknown';
}

/** Sends one ng `ping` and resolves true on `pong` within `ms`. */
export function ngPing(host: string, port: number, ms = 500): Promise<boolean> {
  return new Promise((ok) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const cookie = `p${process.pid}${Date.now()}`;
    const done = (v: boolean): void => {
      clearTimeout(timer);
      sock.close();
      ok(v);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on('error', () => done(false));
    sock.on('message', (m) => done(m.toString().startsWith(`${cookie} `) && m.toString().includes('4:pong')));
    sock.send(`${cookie} d7:command4:pinge`, port, host);
  });
}

/** The Call-IDs rtpengine holds now (ng `list`); rejects when it does not answer within `ms`. */
export function ngListCalls(host: string, port: number, ms = 1000): Promise<string[]> {
  return new Promise((ok, fail) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const cookie = `l${process.pid}${Date.now()}`;
    const timer = setTimeout(() => {
      sock.close();
      fail(new Error(`rtpengine ${host}:${port} did not answer list`));
    }, ms);
    sock.on('message', (m) => {
      const text = m.toString('latin1');
      if (!text.startsWith(`${cookie} `)) return;
      clearTimeout(timer);
      sock.close();
      // d5:callsl<len>:<id>...e6:result2:oke
      const at = text.indexOf('5:callsl');
      const ids: string[] = [];
      let i = at + '5:callsl'.length;
      while (at >= 0 && text[i] !== 'e') {
        const colon = text.indexOf(':', i);
        const len = Number(text.slice(i, colon));
        ids.push(text.slice(colon + 1, colon + 1 + len));
        i = colon + 1 + len;
      }
      ok(ids);
    });
    sock.send(`${cookie} d7:command4:liste`, port, host);
  });
}

/** Starts rtpengine and resolves once its ng socket answers a ping; rejects with its log if it exits or times out. */
export async function startRtpengine(o: RtpengineOptions = {}): Promise<RtpengineProcess> {
  requireRtpengine();
  const host = o.host ?? '127.0.0.1';
  if (!/^127\./.test(host)) throw new Error(`startRtpengine: ${host} is not an IPv4 loopback address`);
  const ngPort = o.ngPort ?? await freePort(host);
  const count = Math.max(4, o.mediaPorts ?? 64);
  const portMin = await freeUdpBlock(count, host);
  const portMax = portMin + count - 1;
  const dir = mkdtempSync(join(tmpdir(), 'tg-rtpengine-'));
  // An empty section of its own, so /etc/rtpengine/rtpengine.conf is never read.
  const conf = join(dir, 'rtpengine.conf');
  writeFileSync(conf, '[rtpengine]\n');
  const args = [
    `--config-file=${conf}`, '--table=-1', '--foreground', '--log-stderr', '--no-log-timestamps',
    `--log-level=${o.logLevel ?? 6}`, `--interface=${host}`, `--listen-ng=${host}:${ngPort}`,
    `--port-min=${portMin}`, `--port-max=${portMax}`, `--pidfile=${join(dir, 'rtpengine.pid')}`,
    '--delete-delay=0', '--num-threads=2', ...(o.extraArgs ?? []),
  ];
  const child: ChildProcess = spawn('rtpengine', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const append = (d: Buffer): void => {
    log += d.toString();
    if (log.length > LOG_CAP) log = log.slice(-LOG_CAP);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const pid = child.pid ?? -1;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;

  const stop = childStopper(child, exited, dir);

  const timeoutMs = o.startTimeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError || !running()) {
      await stop();
      throw new Error(`rtpengine exited during start (code ${child.exitCode}, signal ${child.signalCode}` +
        `${spawnError ? `, ${spawnError.message}` : ''}):\n${log.slice(-4000)}`);
    }
    if (await ngPing(host, ngPort, 200)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`rtpengine did not answer an ng ping on ${host}:${ngPort} within ${timeoutMs} ms:\n${log.slice(-4000)}`);
    }
  }
  return { pid, ng: { host, port: ngPort }, portMin, portMax, logs: () => log, stop };
}
