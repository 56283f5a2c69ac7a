import { SlotMap } from '../common/index.js';

/** drachtio-srf's tables of one control connection that gain and lose entries with every call. */
const CONNECTION_TABLES = ['pendingRequests', 'pendingSipRequests', 'pendingSipAuthRequests', 'pendingNetworkInvites', 'pendingAckOrPrack'] as const;

interface SrfInternals {
  _dialogs?: unknown;
  _app?: { client?: { _initServer?: unknown } };
}

/** What was put in place: both are false when drachtio-srf's insides are not the ones this was written for. */
export interface SrfTables {
  dialogs: boolean;
  connections: boolean;
}

/**
 * Gives drachtio-srf SlotMaps (src/common/slot-map.ts) for the tables it fills and empties per call: its dialogs,
 * and for each control connection the requests awaiting an answer, the INVITEs awaiting a final response and the
 * 2xx awaiting an ACK. As Maps, their discarded hash tables kept every call's requests, responses and parsed
 * frames reachable for the young collector, which promoted 12 KB per call of a bare srf `createB2BUA` app at
 * 1,000 calls/s (`--trace-gc-nvp`); see docs/performance.md.
 *
 * Call once after `srf.connect()` (the connection tables are made when a connection is up, so the agent's
 * constructor of them is wrapped, which also covers every reconnect). A table is replaced only while it is an
 * empty Map, and nothing is touched if drachtio-srf's shape differs, in which case srf runs as shipped.
 */
export function useSlotTables(srf: object): SrfTables {
  const s = srf as SrfInternals;
  const out: SrfTables = { dialogs: false, connections: false };
  if (s._dialogs instanceof Map && s._dialogs.size === 0) {
    s._dialogs = new SlotMap();
    out.dialogs = true;
  }
  const agent = s._app?.client;
  const init = agent?._initServer;
  if (agent && typeof init === 'function') {
    agent._initServer = function (this: unknown, ...args: unknown[]): unknown {
      const tables = (init as (...a: unknown[]) => unknown).apply(this, args) as Record<string, unknown> | undefined;
      if (tables && typeof tables === 'object') {
        for (const name of CONNECTION_TABLES) {
          const t = tables[name];
          if (t instanceof Map && t.size === 0) tables[name] = new SlotMap();
        }
      }
      return tables;
    };
    out.connections = true;
  }
  return out;
}
