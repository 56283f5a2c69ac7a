import { spawn, spawnSync } from 'node:child_process';

/** openssl is a required test peer: importing this module without it fails, naming the package (never a skip). */
export const HAS_OPENSSL: true = ((): true => {
  if (spawnSync('openssl', ['version']).status === 0) return true;
  throw new Error('openssl is not installed, and the TLS interop tests need it: apt-get install -y openssl (scripts/ensure-peers.sh does this as root)');
})();

export interface CliResult {
  code: number | null;
  out: string;
}

/**
 * Runs `openssl s_client` against a loopback port; stdin is closed (ending the session) once s_client has printed
 * its handshake summary, which ends with the verify result. A failed handshake ends s_client by itself. Bounded to 5 s.
 */
export function sClient(port: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const read = (d: Buffer): void => {
      out += d.toString();
      if (p.stdin.writable && /Verify return code: [^\n]*\n/.test(out)) p.stdin.end();
    };
    p.stdout.on('data', read);
    p.stderr.on('data', read);
    p.stdin.on('error', () => undefined);
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

export interface SServer {
  port: number;
  /** Everything s_server printed so far (stdout and stderr): trace, session, and the bytes it received. */
  output: () => string;
  /** Sends bytes to the connected client: s_server writes what it reads on its stdin (kept open until stop). */
  write: (data: string) => void;
  stop: () => Promise<void>;
}

/** Starts `openssl s_server` on 127.0.0.1 with an ephemeral port; resolves with the port, write() and stop(). */
export function sServer(args: string[]): Promise<SServer> {
  return new Promise((resolve, reject) => {
    const p = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const stop = () =>
      new Promise<void>((r) => {
        if (p.exitCode !== null || p.signalCode !== null) return r();
        p.once('close', () => r());
        p.kill('SIGTERM');
      });
    const timer = setTimeout(() => {
      if (!done) {
        p.kill('SIGKILL');
        reject(new Error(`s_server did not start: ${out}`));
      }
    }, 5000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ACCEPT\s+\S*:(\d+)/.exec(out);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        const write = (data: string): void => {
          if (p.exitCode === null && p.signalCode === null && p.stdin.writable) p.stdin.write(data);
        };
        resolve({ port: Number(m[1]), output: () => out, write, stop });
      }
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
  });
}
