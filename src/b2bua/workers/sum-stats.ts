import type { CallLimitsSnapshot } from '../call-limits.js';
import type { CallRatesSnapshot } from '../call-rates.js';
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
 * plus each worker's counters, summed field by field. The calls held against a call limit are summed; the limit
 * itself is the same in every app and is taken once. So are a call rate and its burst, and the tokens of a bucket the
 * apps share (app-rate-buckets.ts). The tokens of a name the shared table had no room for are summed: each app's
 * bucket holds a share (perSecond / N, at most ceil(burst / N)) and the engine hands new calls to the apps in turn, so
 * the sum is how many calls the gateway may start now (it can pass burst by the rounding up, at most N - 1).
 */
export function sumStats(main: B2buaStatsSnapshot, workers: readonly B2buaStatsSnapshot[]): B2buaStatsSnapshot {
  let sum = { ...main } as unknown as Tree;
  const trunks = main.trunks;
  delete sum.trunks;
  for (const w of workers) {
    const { trunks: _ignored, ...counters } = w;
    sum = add(sum, counters as unknown as Tree);
  }
  const out = sum as unknown as B2buaStatsSnapshot;
  const limits = out.policy?.callLimits;
  if (out.policy && limits) out.policy = { ...out.policy, callLimits: limitsOnce(limits, [main, ...workers]) };
  const rates = out.policy?.callRates;
  if (out.policy && rates) out.policy = { ...out.policy, callRates: ratesOnce(rates, [main, ...workers]) };
  return { ...out, ...(trunks ? { trunks } : {}) };
}

/** Summed call-limit rows with each `max` as the first app that reports the row has it. */
function limitsOnce(sum: CallLimitsSnapshot, apps: readonly B2buaStatsSnapshot[]): CallLimitsSnapshot {
  const rows = (scope: keyof CallLimitsSnapshot): CallLimitsSnapshot[typeof scope] => {
    const out: CallLimitsSnapshot[typeof scope] = {};
    for (const [name, row] of Object.entries(sum[scope])) {
      const max = apps.map((a) => a.policy?.callLimits?.[scope][name]?.max).find((m) => m !== undefined) ?? row.max;
      out[name] = { calls: row.calls, max };
    }
    return out;
  };
  return { tenants: rows('tenants'), dialPeers: rows('dialPeers') };
}

/** Summed call-rate rows with each rate and burst as the first app that reports the row has them, and its tokens if shared. */
function ratesOnce(sum: CallRatesSnapshot, apps: readonly B2buaStatsSnapshot[]): CallRatesSnapshot {
  const rows = (scope: keyof CallRatesSnapshot): CallRatesSnapshot[typeof scope] => {
    const out: CallRatesSnapshot[typeof scope] = {};
    for (const [name, row] of Object.entries(sum[scope])) {
      const first = apps.map((a) => a.policy?.callRates?.[scope][name]).find((r) => r !== undefined) ?? row;
      out[name] = { perSecond: first.perSecond, burst: first.burst, tokens: Math.round((first.shared ? first.tokens : row.tokens) * 1000) / 1000 };
    }
    return out;
  };
  return { tenants: rows('tenants'), dialPeers: rows('dialPeers') };
}

/**
 * The last counters of an app that stopped, to add to what its slot reports from then on: its calls are over (the
 * engine ended them), so it holds none and no slot against a call limit; its call-rate buckets and the relayed
 * registrations' flows it counted are gone with it.
 */
export function retiredStats(last: B2buaStatsSnapshot): B2buaStatsSnapshot {
  const { callLimits: _held, callRates: _buckets, ...policy } = last.policy ?? {};
  // Levels, not totals: the media sessions it held and the deletes it still had to send went with it (rtpengine
  // ends what is left at its own timeout), so they are no longer the gateway's to report.
  const media = last.media ? { media: { ...last.media, sessionsOpen: 0, ...(last.media.orphans ? { orphans: { ...last.media.orphans, pending: 0 } } : {}) } } : {};
  // So are the flows it kept bindings of (register-relay-types.ts `bindings`): they are no longer this app's.
  const relay = last.registerRelay ? { registerRelay: { ...last.registerRelay, bindings: 0 } } : {};
  return { ...last, active: 0, legsUp: 0, ...media, ...relay, ...(last.policy ? { policy: policy as NonNullable<B2buaStatsSnapshot['policy']> } : {}) };
}
