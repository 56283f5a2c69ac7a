/**
 * The bench's targets (what sipp's UAC calls, with everything behind it up to sipp's UAS), for bench/sipp-load.ts,
 * and the command-line options they read. The drachtio-server anchor is in bench/anchor/drachtio-target.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { startKamailio, type KamailioProcess } from '../test/support/kamailio.js';
import { freePort, startSippUas } from '../test/support/sipp.js';
import { startNodeArgs } from '../test/support/trunkgate-process.js';
import { benchPki, carrierKamailio, kamailioBase, pbxKamailio, udpFrontKamailio } from './bench-kamailio.js';
import { gatewayProcessArgs } from './gateway-script.js';

export { cleanupPki } from './bench-kamailio.js';

export function opt(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export const product = opt('product') === 'src' ? 'src' : 'dist';
/** Larger socket buffers for sipp itself, so sipp is not what drops datagrams. */
export const sippBuffers = ['-buff_size', String(8 * 1024 * 1024)];
export const kamChildren = Number(opt('kam-children') ?? 4);
/** --uas FILE: the far end's scenario (test/support/scenarios), e.g. uas-call-trying.xml for a carrier's 100 Trying. */
export const uasScenario = opt('uas') ?? 'uas-call.xml';
const apps = opt('apps');
/**
 * --node-args "...": the Node options the gateway's process gets instead of `npm start`'s (package.json), e.g.
 * --node-args "" for V8's defaults.
 */
const gatewayNodeArgs = opt('node-args')?.split(' ').filter((a) => a !== '') ?? startNodeArgs;

export interface Target {
  name: string;
  /** Exits the bench, saying what to do, when something the target needs is missing. */
  check?(): void;
  /** Starts what answers calls; returns the address to call and the pids whose CPU is reported. */
  start(): Promise<{
    remote: string; pids: Record<string, number>; groups?: Record<string, number>; uacArgs?: string[]; stop(): Promise<void>;
    /** The new INVITEs the gateway's overload control shed so far and the signs that made it (a gateway target). */
    shed?(): Promise<string>;
  }>;
}

/**
 * For the UAC in front of kamailio. kamailio's UDP workers run in parallel, so a 180 and the 200 sent right after
 * it may leave kamailio in the other order (legal on UDP; RFC 3261 §17.1.1.2 has a late 1xx simply passed up);
 * sipp, by default, aborts a call on any message it did not expect at that step, so it ignores them instead. A
 * call still fails when its 200 never comes (the step then times out).
 */
export const behindProxy = ['-default_behaviors', 'all,-abortunexp'];

export const direct: Target = {
  name: 'sipp → sipp',
  async start() {
    const uas = await startSippUas({ scenario: { file: uasScenario }, extraArgs: sippBuffers });
    return { remote: `127.0.0.1:${uas.port}`, pids: { 'sipp UAS': uas.pid }, stop: async () => void (await uas.stop()) };
  },
};

/**
 * The gateway in its own process; with `front`, behind a kamailio (the carrier SBC) that relays sipp's UDP to the
 * gateway's UDP listener, or over mutual TLS to its TLS listener; with `back`, calling sipp's UAS through a second
 * kamailio (the PBX), over UDP or mutual TLS.
 */
function gatewayTarget(name: string, extra: string[], legs: { front?: 'udp' | 'tls'; back?: 'udp' | 'tls' } = {}): Target {
  const { front, back } = legs;
  return {
  name,
  async start() {
    // A kamailio behind the gateway record-routes: the UAS copies that, so the ACK and BYE go back through it.
    const uas = await startSippUas({ scenario: { file: back ? 'uas-call-rr.xml' : uasScenario }, extraArgs: sippBuffers });
    const sipPort = await freePort();
    const controlPort = await freePort();
    const tlsPort = front === 'tls' ? await freePort() : 0;
    const p = front === 'tls' || back === 'tls' ? await benchPki() : undefined;
    const kams: KamailioProcess[] = [];
    let gw: ChildProcess | undefined;
    const stop = async (): Promise<void> => {
      for (const k of kams.reverse()) await k.stop();
      gw?.stdin?.end();
      gw?.kill('SIGTERM');
      await uas.stop();
    };
    try {
      const pbx = back ? await pbxKamailio(uas.port, kamChildren, back === 'tls' ? p : undefined) : undefined;
      if (pbx) kams.push(pbx.kam);
      gw = spawn(process.execPath, [...gatewayNodeArgs, ...gatewayProcessArgs(product),
        '--sip', `127.0.0.1:${sipPort}`, '--control', String(controlPort), '--target', `127.0.0.1:${pbx ? pbx.port : uas.port}`,
        '--product', product, ...extra, ...(apps && extra.includes('--policy') ? ['--apps', apps] : []),
        ...(front === 'tls' ? ['--tls', `127.0.0.1:${tlsPort}`] : []), ...(back === 'tls' ? ['--tls-out'] : []),
        ...(p ? ['--tls-files', p.dir] : [])],
      { stdio: ['pipe', 'pipe', 'inherit'] });
      await waitReady(gw);
      if (front === 'tls') kams.push(await carrierKamailio(p!, tlsPort, kamChildren));
      else if (front === 'udp') kams.push(await udpFrontKamailio(sipPort, kamChildren));
    } catch (err) {
      await stop();
      throw err;
    }
    const kamPids = Object.fromEntries(kams.map((k, i) => [kams.length === 1 ? 'kamailio' : i === 0 ? 'kamailio PBX side' : 'kamailio carrier side', k.pid]));
    const gwProcess = gw;
    return {
      remote: front ? `127.0.0.1:${kams[kams.length - 1]!.port('udp')}` : `127.0.0.1:${sipPort}`,
      pids: { gateway: gwProcess.pid ?? -1, 'sipp UAS': uas.pid },
      ...(kams.length > 0 ? { groups: kamPids } : {}),
      ...(front ? { uacArgs: behindProxy } : {}),
      stop,
      shed: () => askShed(gwProcess),
    };
  },
  };
}

export const gateway = gatewayTarget('sipp → gateway (plain b2bua) → sipp', []);
export const policyGateway = gatewayTarget('sipp → gateway (policy pipeline) → sipp', ['--policy']);
/** The same with the engine in the b2bua's thread (gateway.engine.thread: main). */
export const policyMainThread = gatewayTarget('sipp → gateway (policy pipeline, engine thread main) → sipp', ['--policy', '--same-thread']);
/** The same with V8's allocation-site pretenuring left on (src/common/young-calls.ts), to compare. */
export const policyPretenuring = gatewayTarget('sipp → gateway (policy pipeline, V8 pretenuring on) → sipp', ['--policy', '--pretenuring']);
export const tlsGateway = gatewayTarget('sipp → kamailio → TLS → gateway (plain b2bua) → sipp', [], { front: 'tls' });
export const tlsPolicyGateway = gatewayTarget('sipp → kamailio → TLS → gateway (policy pipeline) → sipp', ['--policy'], { front: 'tls' });
export const udpKamailioPolicy = gatewayTarget('sipp → kamailio → UDP → gateway (policy pipeline) → sipp', ['--policy'], { front: 'udp' });
/** Both legs through a kamailio, over mutual TLS and, to compare, over UDP: only the transport differs. */
export const tlsBothPolicy = gatewayTarget('sipp → kamailio → TLS → gateway (policy pipeline) → TLS → kamailio → sipp', ['--policy'], { front: 'tls', back: 'tls' });
export const udpBothPolicy = gatewayTarget('sipp → kamailio → UDP → gateway (policy pipeline) → UDP → kamailio → sipp', ['--policy'], { front: 'udp', back: 'udp' });

/** kamailio alone between the sipps: UDP relay, or UDP → TLS → a second kamailio → UDP. */
function kamailioTarget(name: string, tls: boolean): Target {
  return {
    name,
    async start() {
      // kamailio is a proxy: the UAS copies its Record-Route, so ACK and BYE come back through it.
      const uas = await startSippUas({ scenario: { file: 'uas-call-rr.xml' }, extraArgs: sippBuffers });
      const started: KamailioProcess[] = [];
      const stop = async (): Promise<void> => {
        for (const k of started.reverse()) await k.stop();
        await uas.stop();
      };
      try {
        if (!tls) {
          started.push((await pbxKamailio(uas.port, kamChildren)).kam);
        } else {
          const p = await benchPki();
          // The TLS side stands where the gateway stands: the gateway's certificate, the carrier's CA demanded.
          const edge = await startKamailio({
            listen: [{ proto: 'udp', host: '127.0.0.1', port: 0 }, { proto: 'tls', host: '127.0.0.1', port: 0 }],
            tls: { certificate: p.gateway.cert, privateKey: p.gateway.key, caList: p.carrierCa.cert, requireCertificate: true },
            route: { kind: 'relay', target: { host: '127.0.0.1', port: uas.port, transport: 'udp' } }, ...kamailioBase(kamChildren),
          });
          started.push(edge);
          started.push(await carrierKamailio(p, edge.port('tls'), kamChildren));
        }
      } catch (err) {
        await stop();
        throw err;
      }
      const front = started[started.length - 1]!;
      return {
        remote: `127.0.0.1:${front.port('udp')}`,
        pids: { 'sipp UAS': uas.pid },
        groups: Object.fromEntries(started.map((k, i) => [started.length === 1 ? 'kamailio' : i === 0 ? 'kamailio TLS side' : 'kamailio carrier side', k.pid])),
        uacArgs: behindProxy,
        stop,
      };
    },
  };
}

export const kamailioDirect = kamailioTarget('sipp → kamailio (UDP) → sipp', false);
export const kamailioTls = kamailioTarget('sipp → kamailio → TLS → kamailio → sipp', true);

/** Asks bench/gateway-process.ts for its engine's overload counters: `N shed (cause n, …)`, or `none shed`. */
function askShed(gw: ChildProcess): Promise<string> {
  return new Promise((ok) => {
    let out = '';
    const timer = setTimeout(() => finish('no answer'), 5_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const line = /^overload (.*)$/m.exec(out)?.[1];
      if (line === undefined) return;
      const o = JSON.parse(line) as { rejected: number; dropped: number; byCause: Record<string, number> };
      const causes = Object.entries(o.byCause).filter(([, n]) => n > 0).map(([c, n]) => `${c} ${n}`).join(', ');
      finish(o.rejected + o.dropped > 0 ? `${o.rejected + o.dropped} shed (${causes})` : 'none shed');
    };
    function finish(text: string): void {
      clearTimeout(timer);
      gw.stdout?.off('data', onData);
      ok(text);
    }
    gw.stdout?.on('data', onData);
    gw.stdin?.write('overload\n');
  });
}

/** Resolves when `child` prints a line starting with `ready `. */
export function waitReady(child: ChildProcess, what = 'gateway'): Promise<void> {
  return new Promise((ok, fail) => {
    let out = '';
    const t = setTimeout(() => fail(new Error(`${what} not ready after 20 s`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^ready /m.test(out)) {
        clearTimeout(t);
        ok();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      fail(new Error(`${what} exited with ${code}`));
    });
  });
}
