import { parseConfig } from '../../src/config/load-config.js';
import { fail, guard } from './guard.js';

/**
 * The configuration loader on one YAML document: it never throws; a refusal lists at least one problem, each with
 * a code; an accepted configuration is frozen.
 */
export const fuzz = guard('config-loader', (data) => {
  const r = parseConfig([{ file: 'fuzz.yaml', text: data.toString('utf8') }], { env: {} });
  if (!r.ok) {
    if (r.problems.length === 0) fail('refused without a problem');
    for (const p of r.problems) if (typeof p.code !== 'string' || !p.code.startsWith('ERR_')) fail(`a problem without a code: ${JSON.stringify(p)}`);
    return;
  }
  if (!Object.isFrozen(r.config)) fail('an accepted configuration is not frozen');
});
