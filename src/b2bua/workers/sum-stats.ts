import type { B2buaStatsSnapshot } from '../start-b2bua.js';

type Tree = { [k: string]: number | Tree | unknown };

/** Adds counters of the same shape: numbers are summed, objects merged key by key, anything else taken from `a`. */
function add(a: Tree, b: Tree): Tree {
  const out: Tree = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const mine = out[k];
    if (typeof v === 'number') out[k] = (typeof mine === 'number' ? mine : 0) + v;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = add(mine !== null && typeof mine === 'object' && !Array.isArray(mine) ? (mine as Tree) : {}, v as Tree);
    } else if (!(k in out)) out[k] = v;
  }
  return out;
}

/**
 * The counters of every app as one: the pinging app's snapshot (with the trunk states, which only it keeps)
 * plus each worker's counters, summed field by field.
 */
export function sumStats(main: B2buaStatsSnapshot, workers: readonly B2buaStatsSnapshot[]): B2buaStatsSnapshot {
  let sum = { ...main } as unknown as Tree;
  const trunks = main.trunks;
  delete sum.trunks;
  for (const w of workers) {
    const { trunks: _ignored, ...counters } = w;
    sum = add(sum, counters as unknown as Tree);
  }
  return { ...(sum as unknown as B2buaStatsSnapshot), ...(trunks ? { trunks } : {}) };
}
