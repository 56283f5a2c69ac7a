/**
 * Runs baresip (Debian `baresip`, 1.0.0 on Debian 12) as a SIP phone on loopback that takes calls over TLS and
 * answers them by itself, with SDES SRTP mandatory: its account has `mediaenc=srtp-mand` (an offer without
 * RTP/SAVP and `a=crypto` is refused) and `answermode=auto`. Its microphone is a WAV file written at start (a tone,
 * 8 kHz mono, played by the `aufile` module); the `rtcpsummary` module prints, when a call ends, how many RTP
 * packets it received and sent, and the loss and jitter it saw (only when the call had RTCP: without any it prints
 * `No RTCP stats collected`); incoming RFC 4733 events are logged as `received event`. Its configuration, certificate and log live in a temporary directory.
 *
 *   const phone = await startBaresip({ certificate, privateKey, caList });
 *   t.after(() => phone.stop());
 *   // phone.tlsPort, phone.summaries(), phone.dtmf()
 *
 * baresip 1.0.0 binds UDP and TCP on `sip_listen`'s port and TLS on the next one; it has no setting to take TLS
 * only (`sip_transports` came later), so a test shows the call arrived over TLS from what kamailio logged.
 * The binary is installed with apt-get when it is missing and the user is root. It is stopped by its process id.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childStopper } from './child-stop.js';
import { requireDebianPeer } from './debian-peer.js';
import { freeUdpBlock, tcpFree } from './ports.js';

const LOG_CAP = 4 * 1024 * 1024;

export interface BaresipOptions {
  /** PEM certificate and key of its TLS listener (kamailio connects to it). */
  certificate: string;
  privateKey: string;
  /** PEM CA certificates it trusts (for its own outbound TLS; unused by a phone that only answers). */
  caList?: string;
  /** The user part it answers as (default `phone`): the called number, since the Request-URI kamailio relays keeps it. */
  user?: string;
  /** Seconds of tone in its microphone file (default 60): baresip 1.0.0 ends the call when the file ends. */
  toneSeconds?: number;
  /** How long to wait for its TLS port (default 10,000 ms). */
  startTimeoutMs?: number;
}

/** The `rtcpsummary` line of one ended call: packets received and sent, lost (rx, tx), jitter in ms (rx, tx). */
export interface BaresipCallSummary {
  received: number;
  sent: number;
  lostRx: number;
  lostTx: number;
  jitterRxMs: number;
  jitterTxMs: number;
  line: string;
}

export interface BaresipProcess {
  pid: number;
  host: string;
  /** UDP and TCP on `sipPort`, TLS on `tlsPort` (= sipPort + 1). */
  sipPort: number;
  tlsPort: number;
  /** The user part it answers as. */
  user: string;
  logs(): string;
  summaries(): BaresipCallSummary[];
  /** The digits of the RFC 4733 events it received (its `received event: 'D' (end=0)` lines), in order. */
  dtmf(): string[];
  stop(): Promise<void>;
}

let checked = false;

export function requireBaresip(): void {
  if (checked) return;
  requireDebianPeer({
    name: 'baresip', pkg: 'baresip',
    probe: () => !spawnSync('baresip', ['-h'], { encoding: 'utf8' }).error,
  });
  checked = true;
}

/** A WAV file of a 440 Hz tone, 8 kHz, 16-bit mono. */
function writeTone(path: string, seconds: number): void {
  const n = 8000 * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(16_000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([h, data]));
}

/** Two consecutive ports, both reserved (baresip's SIP over UDP and TCP, then TLS). */
async function sipPorts(host: string): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const p = await freeUdpBlock(2, host);
    if (await tcpFree(p, host) && await tcpFree(p + 1, host)) return p;
  }
  throw new Error('no two consecutive free ports for baresip');
}

export function parseSummaries(log: string): BaresipCallSummary[] {
  const out: BaresipCallSummary[] = [];
  const re = /EX=BareSip;CS=\d+;CD=\d+;PR=(\d+);PS=(\d+);PL=(-?\d+),(-?\d+);PD=[^;]*;JI=([\d.]+),([\d.]+);[^\n]*/g;
  for (const m of log.matchAll(re)) {
    out.push({ received: Number(m[1]), sent: Number(m[2]), lostRx: Number(m[3]), lostTx: Number(m[4]),
      jitterRxMs: Number(m[5]), jitterTxMs: Number(m[6]), line: m[0] });
  }
  return out;
}

export async function startBaresip(o: BaresipOptions): Promise<BaresipProcess> {
  requireBaresip();
  const host = '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'tg-baresip-'));
  const sipPort = await sipPorts(host);
  const rtpBase = await freeUdpBlock(100, host);
  const user = o.user ?? 'phone';
  writeFileSync(join(dir, 'tls.pem'), `${o.certificate}\n${o.privateKey}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'ca.pem'), o.caList ?? o.certificate);
  writeTone(join(dir, 'tone.wav'), o.toneSeconds ?? 60);
  writeFileSync(join(dir, 'config'), [
    'poll_method epoll',
    `sip_listen ${host}:${sipPort}`,
    `sip_certificate ${join(dir, 'tls.pem')}`,
    `sip_cafile ${join(dir, 'ca.pem')}`,
    'call_max_calls 4',
    `audio_source aufile,${join(dir, 'tone.wav')}`,
    'audio_player aufile,/dev/null',
    'audio_alert aufile,/dev/null',
    `rtp_ports ${rtpBase}-${rtpBase + 99}`,
    'rtp_timeout 0',
    `net_interface ${host}`,
    'module_path /usr/lib/baresip/modules',
    'module g711.so', 'module aufile.so', 'module srtp.so', 'module rtcpsummary.so',
    'module_app account.so', 'module_app menu.so',
    '',
  ].join('\n'));
  // answermode=auto answers every call; mediaenc=srtp-mand refuses one that is not SDES SRTP.
  writeFileSync(join(dir, 'accounts'),
    `<sip:${user}@${host};transport=tls>;regint=0;answermode=auto;mediaenc=srtp-mand;audio_codecs=PCMA\n`);
  writeFileSync(join(dir, 'contacts'), '');
  const child = spawn('baresip', ['-f', dir, '-v'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let log = '';
  const append = (d: Buffer): void => {
    log += d.toString();
    if (log.length > LOG_CAP) log = log.slice(-LOG_CAP);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const stop = childStopper(child, exited, dir);
  const deadline = Date.now() + (o.startTimeoutMs ?? 10_000);
  while (!log.includes('baresip is ready') || await tcpFree(sipPort + 1, host)) {
    if (!running() || Date.now() > deadline) {
      const tail = log.slice(-3000);
      await stop();
      throw new Error(`baresip did not start (TLS on ${host}:${sipPort + 1}):\n${tail}`);
    }
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return {
    pid: child.pid ?? -1, host, sipPort, tlsPort: sipPort + 1, user,
    logs: () => log,
    summaries: () => parseSummaries(log),
    dtmf: () => [...log.matchAll(/received event: '(.)' \(end=0\)/g)].map((m) => m[1]!),
    stop,
  };
}
