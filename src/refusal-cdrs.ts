import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { B2buaLogCode } from './b2bua/errors.js';
import type { CdrRecord } from './b2bua/cdr-record.js';
import type { CdrSink } from './cdr/index.js';
import type { RefusalRecord } from './engine/refusal-record.js';
import { normalizeNumber } from './policy/index.js';
import { systemClock } from './common/clock.js';
import { RateLimitedLog, type NowSource } from './log/rate-limited-log.js';

/**
 * The CDR of a new INVITE the engine refused before any app saw it, in the shape of every other record: the
 * engine's facts, the rest null or empty (no B leg was tried, nothing was verified), setup and end at the refusal,
 * cause `refused:<code>` with the refusal's stable error code, released by the engine.
 */
export function refusalCdr(r: RefusalRecord): CdrRecord {
  return {
    id: randomUUID(),
    callId: r.callId ?? '',
    callingNumber: r.callingNumber,
    // Normalised as the b2bua normalises the called number of the calls it takes (call-locals.ts).
    calledNumber: r.calledNumber !== null ? normalizeNumber(r.calledNumber) : null,
    sourceAddress: r.sourceAddress,
    sourcePort: r.sourcePort,
    transportIn: r.transport,
    listener: r.listener,
    tenantIn: r.tenant,
    identities: [],
    identityOrigin: null,
    peerIdentity: null,
    tlsPeer: null,
    tlsVersion: null,
    tlsCipher: null,
    category: null,
    dialPeer: null,
    tenantOut: null,
    transportOut: null,
    destination: null,
    tlsVersionOut: null,
    tlsCipherOut: null,
    identitiesOut: [],
    attempts: 0,
    targets: [],
    setupAt: r.time,
    answerAt: null,
    endAt: r.time,
    setupMs: 0,
    durationMs: 0,
    status: r.status,
    cause: `refused:${r.code}`,
    releasedBy: 'engine',
    reason: r.reason,
    reasonIn: r.reason,
    reasonOut: null,
    byeFailed: 0,
  };
}

/**
 * Where the engine's records go in the gateway's thread: each becomes a CDR in a `cdr` log line and in the CDR sink
 * (the JSON-lines file, the database), as the b2bua's records do. A sink that throws costs only its own copy.
 */
export function refusalCdrWriter(log: Logger, sink: Pick<CdrSink, 'write'> | undefined, clock: NowSource = systemClock): (records: readonly RefusalRecord[]) => void {
  // A sink that fails for every record would otherwise write a line per refused call.
  const limited = new RateLimitedLog(log, clock, { intervalMs: 60_000, perCode: 1 });
  return (records) => {
    for (const r of records) {
      const cdr = refusalCdr(r);
      log.info({ cdr }, 'cdr');
      if (!sink) continue;
      try {
        sink.write(cdr);
      } catch (err) {
        const code: B2buaLogCode = 'ERR_B2BUA_CDR_SINK';
        limited.line('error', code, { err }, 'the CDR sink refused the record of a refused call (it is in the log line)');
      }
    }
  };
}
