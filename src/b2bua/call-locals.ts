import type { Logger } from 'pino';
import { normalizeNumber } from '../policy/index.js';
import type { CdrRecord } from './cdr-record.js';
import type { CallLocals } from './pipeline-types.js';
import { addressUser, calledUser } from './sip-user.js';

/** What a call's record reads of an INVITE that does not go through the policy pipeline (drain, plain bridge). */
export interface InviteFacts {
  uri?: string;
  protocol?: string;
  source_address?: string;
  source_port?: number | string;
  receivedOn?: string;
  get(name: string): string | undefined;
}

/**
 * The CDR facts of an INVITE the pipeline does not see: Call-ID, numbers, transport, source and listener. The
 * pipeline's first step gathers the same for the calls it takes (identify-peer.ts).
 */
export function plainCallLocals(req: InviteFacts, o: { log: Logger; startedAt: number; onCdr?: (r: CdrRecord) => void }): CallLocals {
  const calling = addressUser(req.get('From'));
  const called = calledUser(req.uri ?? '');
  const transport = req.protocol?.toLowerCase();
  return {
    callId: req.get('Call-ID') ?? '', startedAt: o.startedAt, log: o.log, identities: [],
    ...(calling !== undefined ? { callingNumber: calling } : {}),
    ...(called !== undefined ? { calledNumber: normalizeNumber(called) } : {}),
    ...(transport === 'udp' || transport === 'tcp' || transport === 'tls' ? { transportIn: transport } : {}),
    ...(req.source_address !== undefined ? { sourceAddress: req.source_address } : {}),
    ...(req.source_port !== undefined ? { sourcePort: Number(req.source_port) } : {}),
    ...(req.receivedOn !== undefined ? { listener: req.receivedOn } : {}),
    ...(o.onCdr ? { onCdr: o.onCdr } : {}),
  };
}
