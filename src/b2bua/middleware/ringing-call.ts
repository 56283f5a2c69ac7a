import type { ActiveCalls } from '../active-calls.js';
import type { BLegTarget } from '../b-leg-target.js';
import { writeRingingAbandoned } from '../cdr.js';
import type { Clock } from '../../common/index.js';
import { localsOf, type PipelineRequest } from '../pipeline-types.js';
import { clearedAnswer } from '../reason.js';
import type { Failure } from './resolve-target.js';

/** A call being placed as the call list sees it: what a hang-up asked, and how to give up the attempt under way. */
export interface Setup {
  id: string;
  cleared?: Failure;
  giveUp?: () => void;
  /** A B leg is being placed to this target: the call list shows it, and an abandoned call's record names it. */
  nowTrying?: (t: BLegTarget) => void;
}

/**
 * Runs `place` with the call listed as ringing until it is answered (it then keeps its id) or has failed. An
 * administrator's hang-up cancels the B-leg attempt under way, stops the failover, and the caller gets 480 with the
 * hang-up's Reason. Without a call list, `place` runs with no setup.
 */
export async function listedWhileRinging(deps: { active?: ActiveCalls | undefined; clock: Clock }, req: PipelineRequest,
  place: (setup: Setup | undefined) => Promise<void>): Promise<void> {
  const locals = localsOf(req);
  if (!deps.active) return place(undefined);
  const setup: Setup = { id: '' };
  let trying: BLegTarget | undefined;
  const listed = deps.active.setUp({
    callIds: locals.callId ? [locals.callId] : [], tenantIn: locals.tenantIn ?? null, tenantOut: null, dialPeer: null,
    callingNumber: locals.callingNumber ?? null, calledNumber: locals.calledNumber ?? null, startAt: locals.startedAt,
  }, (cause, reason) => {
    setup.cleared = { ...clearedAnswer(reason), cause, releasedBy: 'gateway' };
    setup.giveUp?.();
  }, (cause, reason) => writeRingingAbandoned(locals, cause, reason, locals.targets?.length ?? 0, deps.clock.now(), trying));
  setup.id = listed.id;
  setup.nowTrying = (t) => {
    trying = t;
    listed.trying(t.dialPeer, t.tenant);
  };
  try {
    await place(setup);
  } finally {
    listed.done();
  }
}
