import { parseCommandLine, USAGE } from './cli/parse-command.js';

/**
 * Process entry (`npm start`, `bin/trunkgate.mjs`).
 * The command line is read by cli/parse-command.ts: --help prints the usage, an unknown word or flag exits 2.
 * Each command loads only its own modules (a `trunkgate show calls` does not load the gateway); start-command.ts
 * starts the gateway.
 *   trunkgate [start] [--profiles DIR]   load profiles/*.yaml, create the local CA and trustpoint on first start,
 *                                        run the engine in a worker thread and the b2bua in this one
 *                                        (gateway.engine.mode external: the b2bua alone, against drachtio-server)
 *   trunkgate config check [DIR]         print every problem of a configuration; exit 1 if there is one
 *   trunkgate config schema              print the JSON Schema of the configuration
 *   trunkgate reload [--tls] [--profiles DIR] [--admin URL] [--json]
 *                                        ask the running gateway (admin API) to reload its configuration (or TLS files)
 *   trunkgate show WHAT / clear WHAT     the running gateway's connections, listeners, calls, TLS, trunks and
 *                                        certificates as tables; end a call or close connections (admin API)
 * Environment: TRUNKGATE_PROFILES (profiles dir), TRUNKGATE_ENGINE_SECRET (random per start),
 * TRUNKGATE_CONTROL_PORT (overrides gateway.engine.control.port), TRUNKGATE_ADMIN_PORT (overrides
 * gateway.admin.port), TRUNKGATE_PREWARM_CALLS (overrides gateway.engine.prewarmCalls), the variable gateway.admin.tokenEnv names (TRUNKGATE_ADMIN_TOKEN: the admin API's bearer
 * token), TRUNKGATE_LOG_LEVEL. Calls run the policy pipeline unless gateway.yaml sets `policy: bridge`. SIGHUP
 * reloads the configuration; SIGTERM drains (new calls 503 with Retry-After, calls up get
 * gateway.shutdown.drainSeconds, then BYE) and exits 0; SIGINT closes at once. The engine worker dying ends the
 * process with code 70.
 */
const env = process.env;
const command = parseCommandLine(process.argv.slice(2));
const io = { out: (s: string) => console.log(s), err: (s: string) => console.error(s), env };

/** The commands that take their own arguments, each loaded when it runs. */
type ArgCommand = (args: string[], io: { out(s: string): void; err(s: string): void; env: NodeJS.ProcessEnv }) => Promise<number>;
const ARG_COMMANDS: Record<'reload' | 'show' | 'clear' | 'tls' | 'pki', () => Promise<ArgCommand>> = {
  reload: async () => (await import('./cli/reload.js')).reloadCommand,
  show: async () => (await import('./cli/show.js')).showCommand,
  clear: async () => (await import('./cli/clear.js')).clearCommand,
  tls: async () => (await import('./cli/tls-probe.js')).tlsProbeCommand,
  pki: async () => (await import('./cli/pki.js')).pkiCommandLine,
};

switch (command.kind) {
  case 'help':
    console.log(USAGE);
    process.exit(0);
    break;
  case 'usage-error':
    console.error(`trunkgate: ${command.message}\n\n${USAGE}`);
    process.exit(2);
    break;
  case 'version':
    console.log('trunkgate 0.1.0');
    process.exit(0);
    break;
  case 'config-check':
  case 'config-schema': {
    const rest = command.kind === 'config-schema' ? ['--schema'] : command.dir === undefined ? [] : [command.dir];
    const { configCheck } = await import('./cli/config-check.js');
    process.exit(configCheck(rest, io));
    break;
  }
  case 'reload':
  case 'show':
  case 'clear':
  case 'tls':
  case 'pki':
    process.exit(await (await ARG_COMMANDS[command.kind]())(command.args, io));
    break;
  case 'start':
    await (await import('./start-command.js')).runStart(command.profiles, env);
    break;
}
