// Starts the gateway for interop tests: the engine on loopback plus the b2bua bridging to a target.
// The engine API is read at run time; a missing one is a failure that names what is missing.
import { startB2bua, type B2buaApp } from '../../../src/b2bua/index.js';
import { silentLogger } from '../../../src/log/index.js';
import { freePort } from '../../support/sipp.js';

export interface GatewayUnderTest {
  sipPort: number;
  b2bua: B2buaApp;
  close(): Promise<void>;
}

type StartEngine = (opts: {
  control: { host: string; port: number; secret: string };
  listen: Array<{ transport: 'udp' | 'tcp'; host: string; port: number }>;
  log: ReturnType<typeof silentLogger>;
}) => Promise<{ close(): Promise<void> | void }>;

export async function startGateway(target: string): Promise<GatewayUnderTest> {
  const mod = (await import('../../../src/engine/index.js')) as Record<string, unknown>;
  const startEngine = mod.startEngine as StartEngine | undefined;
  if (typeof startEngine !== 'function') {
    throw new Error('src/engine/index.ts does not export startEngine({ control, listen, log }) yet: the gateway cannot start');
  }
  const sipPort = await freePort();
  const controlPort = await freePort();
  const secret = 'interop-secret';
  const log = silentLogger();
  const engine = await startEngine({
    control: { host: '127.0.0.1', port: controlPort, secret },
    listen: [{ transport: 'udp', host: '127.0.0.1', port: sipPort }, { transport: 'tcp', host: '127.0.0.1', port: sipPort }],
    log,
  });
  const b2bua = await startB2bua({ engine: { host: '127.0.0.1', port: controlPort, secret }, target, log });
  return {
    sipPort,
    b2bua,
    close: async () => {
      await b2bua.close();
      await engine.close();
    },
  };
}
