// The gateway for media tests: the engine on 127.0.0.1 with one UDP listener of the calling tenant, and the b2bua's
// policy pipeline with two tenants (calling → called by one dial peer), each with its own media block, and the
// rtpengine instances given.
import { closeMediaPools, startB2bua, type B2buaApp, type TenantPolicy } from '../../src/b2bua/index.js';
import { BUILTIN_CATEGORIES } from '../../src/config/index.js';
import { startEngine } from '../../src/engine/index.js';
import { silentLogger } from '../../src/log/index.js';
import { captureLog, type LogCapture } from './log-capture.js';
import { freePort } from './ports.js';

export interface MediaGateway {
  sipPort: number;
  b2bua: B2buaApp;
  log: LogCapture;
  close(): Promise<void>;
}

export async function startMediaGateway(o: {
  calling: { name: string; policy: TenantPolicy };
  called: { name: string; policy: TenantPolicy };
  rtpengines: Array<{ host: string; port: number }>;
  timeoutMs?: number;
  rtpTimeoutMs?: number;
}): Promise<MediaGateway> {
  const sipPort = await freePort();
  const controlPort = await freePort();
  const secret = 'media-secret';
  const listener = { transport: 'udp' as const, host: '127.0.0.1', port: sipPort, tenant: o.calling.name };
  const engine = await startEngine({ control: { host: '127.0.0.1', port: controlPort, secret }, listen: [listener], log: silentLogger() });
  const log = captureLog('info');
  const b2bua = await startB2bua({
    engine: { host: '127.0.0.1', port: controlPort, secret },
    policy: {
      tenants: { [o.calling.name]: o.calling.policy, [o.called.name]: o.called.policy },
      listeners: [listener],
      categories: BUILTIN_CATEGORIES,
      dialPeers: [{ id: 'out', destinationPattern: '.', tenant: o.called.name, from: [o.calling.name] }],
      media: {
        rtpengines: o.rtpengines, timeoutMs: o.timeoutMs ?? 2_000, pingIntervalMs: 5_000,
        ...(o.rtpTimeoutMs !== undefined ? { rtpTimeoutMs: o.rtpTimeoutMs } : {}),
      },
    },
    log: log.log,
  });
  return {
    sipPort, b2bua, log,
    close: async () => {
      await b2bua.close();
      closeMediaPools();
      await engine.close();
    },
  };
}

/** Waits (bounded) until `n` CDRs are logged; the caller asserts on what it finds. */
export async function cdrsLogged(log: LogCapture, n: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (log.cdrs.length < n && Date.now() < until) await new Promise((ok) => setTimeout(ok, 25));
}
