// Copies drachtio-srf's test suite, as shipped in node_modules, to a scratch directory and rewrites the copy
// to run on loopback with local sipp (no docker). Nothing of the suite is kept in this repository.
import { cpSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uasHosts } from './layout.mjs';

const here = dirname(fileURLToPath(import.meta.url));

function edit(file, fn) {
  const before = readFileSync(file, 'utf8');
  const after = fn(before);
  if (after !== before) writeFileSync(file, after);
  return after !== before;
}

/** `sipp-uas-*` hostnames and 172.29.0.x addresses → the loopback layout; returns unknown names found. */
export function rewriteHosts(text) {
  const unknown = new Set();
  const out = text
    .replace(/\bsipp-uas(?:-[a-z0-9]+)*/g, (name) => {
      const h = uasHosts[name];
      if (!h) unknown.add(name);
      return h ? h.ip : name;
    })
    .replace(/\b172\.29\.0\.(\d{1,3})\b/g, '127.0.0.$1');
  return { out, unknown: [...unknown] };
}

/** Debian's sipp 3.6.1 rejects a raw '<' inside an attribute value (it is not valid XML). */
export function escapeRegexpLt(xml) {
  return xml.replace(/regexp="([^"]*)"/g, (_m, v) => `regexp="${v.replace(/</g, '&lt;')}"`);
}

export function prepareSuite(pkgSrc, dest) {
  cpSync(pkgSrc, dest, { recursive: true, filter: (p) => !p.includes(`${pkgSrc}/node_modules`) });
  const changes = [];
  // 1. test/sipp.js spawns docker; replace it with a local-sipp runner of ours.
  cpSync(join(here, 'local-sipp.cjs'), join(dest, 'test', 'sipp.js'));
  changes.push('test/sipp.js → local sipp');
  // 2. hostnames and compose addresses in the test sources and helper apps.
  const unknown = new Set();
  for (const dir of ['test', 'test/scripts']) {
    for (const f of readdirSync(join(dest, dir))) {
      if (!f.endsWith('.js') || f === 'sipp.js') continue;
      const p = join(dest, dir, f);
      if (edit(p, (t) => {
        const r = rewriteHosts(t);
        r.unknown.forEach((u) => unknown.add(u));
        return r.out;
      })) changes.push(`${dir}/${f}: hosts`);
    }
  }
  if (unknown.size > 0) throw new Error(`unmapped sipp hostnames in the suite: ${[...unknown].join(', ')}`);
  // 3. scenarios: compose addresses (uas-302.xml's Contact) and the raw '<' Debian's sipp rejects.
  const scen = join(dest, 'test', 'scenarios');
  for (const f of readdirSync(scen)) {
    if (!f.endsWith('.xml')) continue;
    if (edit(join(scen, f), (t) => escapeRegexpLt(rewriteHosts(t).out))) changes.push(`scenarios/${f}`);
  }
  if (!existsSync(join(dest, 'config', 'test.json'))) throw new Error('the suite copy has no config/test.json');
  return changes;
}
