import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The command line, read strictly with node:util parseArgs: a word or flag this table does not name is a usage
 * error (exit 2) rather than a gateway started on the configured ports.
 */
export type Command =
  | { kind: 'start'; profiles?: string }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'config-check'; dir?: string }
  | { kind: 'config-schema' }
  | { kind: 'reload'; args: string[] }
  | { kind: 'pki'; args: string[] }
  | { kind: 'tls'; args: string[] }
  | { kind: 'show'; args: string[] }
  | { kind: 'clear'; args: string[] }
  | { kind: 'usage-error'; message: string };

export const USAGE = `Usage:
  trunkgate [start] [--profiles DIR]      run the gateway (profiles/*.yaml; TRUNKGATE_PROFILES)
  trunkgate config check [DIR]            print every problem of a configuration; exit 1 if there is one
  trunkgate config schema                 print the JSON Schema of the configuration
  trunkgate reload [--tls] [--profiles DIR] [--admin URL] [--json]
                                          ask the running gateway to reload its configuration (or TLS files)
  trunkgate pki list|inspect|ca|csr|import|trust ...
                                          certificates without openssl (trunkgate pki --help)
  trunkgate tls probe HOST:PORT [--sni NAME] [--profile NAME] [--json]
                                          what a TLS far end accepts, and whether a profile connects
  trunkgate show connections [--detail]|listeners|calls|tls|trunks|certificates [--json] [--limit N]
                                          the running gateway's state, as tables (trunkgate show --help)
  trunkgate clear call ID | connection ID | connection --remote ADDR:PORT [--json]
                                          end a live call (BYE on both legs) or close TCP/TLS connections
  trunkgate version                       print the version
  trunkgate help                          print this text

Options:
  -h, --help                              print this text and exit 0
  -v, --version                           print the version and exit 0
Any other word or flag prints this text and exits 2.`;

const help = { help: { type: 'boolean', short: 'h' } } as const;

/** parseArgs, with its refusal (unknown flag, missing value, extra word) turned into a usage error. */
type Read = { error: string } | { values: Record<string, string | boolean | undefined>; positionals: string[] };

function read(args: string[], options: NonNullable<ParseArgsConfig['options']>, positionals: number): Read {
  try {
    const r = parseArgs({ args, options: { ...help, ...options }, strict: true, allowPositionals: positionals > 0 });
    if (r.positionals.length > positionals) return { error: `unexpected argument '${r.positionals[positionals]}'` };
    return { values: r.values as Record<string, string | boolean | undefined>, positionals: r.positionals };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

export function parseCommandLine(argv: readonly string[]): Command {
  const [first, ...rest] = argv;
  const usage = (message: string): Command => ({ kind: 'usage-error', message });
  if (first === 'help' || first === '--help' || first === '-h') {
    return argv.length === 1 ? { kind: 'help' } : usage(`unexpected argument '${argv[1]}'`);
  }
  if (first === 'version' || first === '--version' || first === '-v') {
    return argv.length === 1 ? { kind: 'version' } : usage(`unexpected argument '${argv[1]}'`);
  }
  if (first === 'config') {
    const [sub, ...more] = rest;
    if (sub === 'schema') {
      const r = read(more, {}, 0);
      return 'error' in r ? usage(r.error) : r.values.help ? { kind: 'help' } : { kind: 'config-schema' };
    }
    if (sub === 'check') {
      const r = read(more, { schema: { type: 'boolean' } }, 1);
      if ('error' in r) return usage(r.error);
      if (r.values.help) return { kind: 'help' };
      if (r.values.schema) return r.positionals.length === 0 ? { kind: 'config-schema' } : usage('--schema takes no directory');
      return r.positionals[0] === undefined ? { kind: 'config-check' } : { kind: 'config-check', dir: r.positionals[0] };
    }
    return usage(sub === undefined ? 'config needs a subcommand: check or schema' : `unknown config subcommand '${sub}'`);
  }
  // pki reads its own words and flags (src/cli/pki.ts), and answers a bad one with its own usage and exit 2.
  if (first === 'pki') return { kind: 'pki', args: rest };
  if (first === 'tls') return { kind: 'tls', args: rest };
  // show and clear too (src/cli/show.ts, clear.ts): they ask the running gateway's admin API.
  if (first === 'show') return { kind: 'show', args: rest };
  if (first === 'clear') return { kind: 'clear', args: rest };
  if (first === 'reload') {
    const r = read(rest, {
      tls: { type: 'boolean' }, json: { type: 'boolean' }, profiles: { type: 'string' }, admin: { type: 'string' },
    }, 0);
    if ('error' in r) return usage(r.error);
    return r.values.help ? { kind: 'help' } : { kind: 'reload', args: rest };
  }
  const startArgs = first === 'start' ? rest : [...argv];
  const r = read(startArgs, { profiles: { type: 'string' } }, 0);
  if ('error' in r) {
    // A first word that is not a command reads better as such than as parseArgs' "unexpected argument".
    return usage(first !== undefined && first !== 'start' && !first.startsWith('-') ? `unknown command '${first}'` : r.error);
  }
  if (r.values.help) return { kind: 'help' };
  const profiles = r.values.profiles;
  return typeof profiles === 'string' ? { kind: 'start', profiles } : { kind: 'start' };
}
