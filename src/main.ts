import { isGatewayError } from './common/index.js';
import { randomSecret, startGateway, type GatewayOptions } from './gateway.js';
import { createLogger } from './log/index.js';

/**
 * Process entry (`npm start`, `bin/trunkgate.mjs`): the engine in a worker thread and the b2bua in this one.
 * Environment: TRUNKGATE_SIP_HOST (127.0.0.1), TRUNKGATE_SIP_PORT (5060, udp and tcp), TRUNKGATE_CONTROL_PORT
 * (9022), TRUNKGATE_ENGINE_SECRET (random per start), TRUNKGATE_TARGET (host:port[;transport=udp|tcp], where every
 * call goes; 127.0.0.1:5080), TRUNKGATE_LOG_LEVEL. SIGINT and SIGTERM close everything.
 */
const env = process.env;
const log = createLogger();

function port(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) {
    log.fatal({ code: 'ERR_CONFIG_INVALID', variable: name, value: raw }, `${name} must be a port number`);
    process.exit(2);
  }
  return n;
}

const sipHost = env.TRUNKGATE_SIP_HOST || '127.0.0.1';
const sipPort = port('TRUNKGATE_SIP_PORT', 5060);
const options: GatewayOptions = {
  listen: [
    { transport: 'udp', host: sipHost, port: sipPort },
    { transport: 'tcp', host: sipHost, port: sipPort },
  ],
  control: { host: '127.0.0.1', port: port('TRUNKGATE_CONTROL_PORT', 9022), secret: env.TRUNKGATE_ENGINE_SECRET || randomSecret() },
  target: env.TRUNKGATE_TARGET || '127.0.0.1:5080',
  log,
  ...(env.TRUNKGATE_LOG_LEVEL ? { logLevel: env.TRUNKGATE_LOG_LEVEL } : {}),
};

try {
  const gw = await startGateway(options);
  const sip = gw.addresses.sip.map((l) => `${l.protocol}/${l.address}:${l.port}`).join(', ');
  const c = gw.addresses.control;
  log.info({ sip: gw.addresses.sip.map((l) => `${l.protocol}/${l.address}:${l.port}`), control: `${c.host}:${c.port}`, target: options.target },
    `trunkgate: SIP on ${sip}; drachtio control on ${c.host}:${c.port}; b2bua sends calls to ${options.target}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'trunkgate: stopping');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void gw.close().then(() => {
      log.info('trunkgate: stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (e) {
  const code = isGatewayError(e) ? e.code : 'ERR_GATEWAY_START';
  const details = isGatewayError(e) ? e.details : undefined;
  log.fatal({ err: e, code, details }, 'trunkgate: failed to start');
  process.exit(1);
}
