import { exportJsonSchema, formatProblem, resolveConfigDir, tryLoadConfig } from '../config/index.js';
import { validateCipherName } from '../tls/cipher-names.js';

export interface ConfigCheckIo {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}


/**
 * `trunkgate config check [dir]`: loads the profiles directory (argument, else TRUNKGATE_PROFILES, else
 * `profiles`) as the gateway would, prints every problem and warning, and returns the exit status:
 * 0 valid, 1 invalid. With `--schema`, prints the JSON Schema for editors instead
 * (`trunkgate config check --schema > profiles/trunkgate.schema.json`).
 */
export function configCheck(args: readonly string[], io: ConfigCheckIo): number {
  if (args.includes('--schema')) {
    io.out(JSON.stringify(exportJsonSchema(), null, 2));
    return 0;
  }
  const dir = resolveConfigDir(args.find((a) => !a.startsWith('-')), io.env);
  const r = tryLoadConfig(dir, { validateCipherName, env: io.env });
  for (const w of r.warnings) io.err(`warning: ${formatProblem(w)}`);
  if (!r.ok) {
    for (const p of r.problems) io.err(formatProblem(p));
    io.err(`${dir}: ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'} [${r.code}]`);
    return 1;
  }
  const c = r.config;
  io.out(
    `${dir}: OK (${c.files.length} files; ${Object.keys(c.tenants).length} tenants, ${c.dialPeers.length} dial peers, ` +
      `${Object.keys(c.tlsProfiles).length} TLS profiles, ${Object.keys(c.tlsPeers).length} TLS peers, ${c.listeners.length} listeners)`,
  );
  return 0;
}
