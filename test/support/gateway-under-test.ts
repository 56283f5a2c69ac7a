// Starts the gateway for interop and load tests: the engine on loopback plus the b2bua running the policy
// pipeline (listener tenant pbx, the built-in permission categories, one dial peer to the far tenant), so every
// call the sipp runs make goes through the product's tenant, permission and dial-peer steps and leaves a CDR.
import { startB2bua, type B2buaApp } from '../../src/b2bua/index.js';
import { BUILTIN_CATEGORIES } from '../../src/config/index.js';
import { startEngine } from '../../src/engine/index.js';
import { silentLogger } from '../../src/log/index.js';
import { captureLog, type LogCapture } from './log-capture.js';
import { freePort } from './sipp.js';

export interface GatewayUnderTest {
  sipPort: number;
  b2bua: B2buaApp;
  /** The b2bua's log: one CDR per call, with tenantIn, dialPeer and tenantOut. */
  log: LogCapture;
  close(): Promise<void>;
}

/** The dial peer every call of these tests takes, and the tenants it joins. */
export const ROUTE = { tenantIn: 'pbx', dialPeer: 'far-end', tenantOut: 'far' } as const;

/** `far` is `host:port`; its calls go over `transport`. */
export async function startGateway(far: string, transport: 'udp' | 'tcp' = 'udp'): Promise<GatewayUnderTest> {
  const sipPort = await freePort();
  const controlPort = await freePort();
  const secret = 'interop-secret';
  const log = captureLog('info');
  const engine = await startEngine({
    control: { host: '127.0.0.1', port: controlPort, secret },
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: ROUTE.tenantIn },
      { transport: 'tcp', host: '127.0.0.1', port: sipPort, tenant: ROUTE.tenantIn },
    ],
    log: silentLogger(),
  });
  const b2bua = await startB2bua({
    engine: { host: '127.0.0.1', port: controlPort, secret },
    policy: {
      tenants: { [ROUTE.tenantIn]: { transport: 'udp' }, [ROUTE.tenantOut]: { transport, sipServer: far } },
      listeners: [
        { transport: 'udp', host: '127.0.0.1', port: sipPort, tenant: ROUTE.tenantIn },
        { transport: 'tcp', host: '127.0.0.1', port: sipPort, tenant: ROUTE.tenantIn },
      ],
      categories: BUILTIN_CATEGORIES,
      dialPeers: [{ id: ROUTE.dialPeer, destinationPattern: '.', tenant: ROUTE.tenantOut, from: [ROUTE.tenantIn] }],
    },
    log: log.log,
  });
  return {
    sipPort,
    b2bua,
    log,
    close: async () => {
      await b2bua.close();
      await engine.close();
    },
  };
}
