import type { Logger } from 'pino';
import type { CallStats } from './call-stats.js';

/** One leg of a bridged call, as drachtio-srf's `Dialog` presents it. */
export interface BridgeLeg {
  /** drachtio-srf sets this false once the dialog is over (BYE sent or received). */
  connected?: boolean;
  on(event: 'destroy', listener: () => void): unknown;
  destroy(opts: undefined, callback: (err: unknown) => void): unknown;
}

/** Who ended a connected call. `race`: a leg was already gone when createB2BUA resolved. */
export type ReleasedBy = 'caller' | 'callee' | 'race';

export interface SuperviseContext {
  stats: CallStats;
  log: Logger;
  callId: string | undefined;
  /** Called once, when both legs are released. */
  onEnded(releasedBy: ReleasedBy | undefined): void;
}

/**
 * Follows a connected call until both legs are released: a BYE on one leg is answered by drachtio-srf and
 * ends the other with a BYE of ours. Counts connected, active, legs up and completed calls.
 */
export function superviseLegs(ctx: SuperviseContext, legs: { uas: BridgeLeg; uac: BridgeLeg }): void {
  const { stats, log, callId } = ctx;
  stats.connected++;
  stats.active++;
  stats.legsUp += 2;

  const a = { leg: legs.uas, up: true };
  const b = { leg: legs.uac, up: true };
  let releasedBy: ReleasedBy | undefined;

  const release = (side: typeof a): void => {
    if (!side.up) return;
    side.up = false;
    stats.legsUp--;
    if (a.up || b.up) return;
    stats.active--;
    stats.completed++;
    ctx.onEnded(releasedBy);
  };
  const hangUp = (side: typeof a): void => {
    if (!side.up) return;
    try {
      side.leg.destroy(undefined, (err) => {
        if (err) log.debug({ err, callId }, 'b2bua: BYE on the surviving leg failed');
        release(side);
      });
    } catch (err) {
      log.debug({ err, callId }, 'b2bua: BYE on the surviving leg failed');
      release(side);
    }
  };
  const onEnded = (gone: typeof a, other: typeof a, who: ReleasedBy): void => {
    releasedBy ??= who;
    release(gone);
    hangUp(other);
  };

  legs.uas.on('destroy', () => onEnded(a, b, 'caller'));
  legs.uac.on('destroy', () => onEnded(b, a, 'callee'));

  // A BYE that arrived in the same read as the messages completing the call has already been handled by
  // drachtio-srf, and the 'destroy' it emitted found no listener (drachtio-protocol.md §6).
  if (legs.uas.connected === false) {
    stats.racedLegs++;
    onEnded(a, b, 'race');
  }
  if (legs.uac.connected === false) {
    stats.racedLegs++;
    onEnded(b, a, 'race');
  }
}
