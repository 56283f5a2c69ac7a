import { ManualClock } from '../../../src/common/index.js';
import { CallStats } from '../../../src/b2bua/call-stats.js';
import { runConnectedCall } from '../../../src/b2bua/connected-call.js';
import type { CallEnd } from '../../../src/b2bua/supervise-legs.js';
import { decideUas, type UasSessionDecision } from '../../../src/b2bua/session-timer.js';
import { FakeDialog } from './pipeline-fakes.js';
import { captureLog, settle } from './fake-srf.js';

/** A connected call with session timers on both legs, on a manual clock (the session-timer-*.test.ts files). */

export const policy = { expiresSeconds: 1800, minSeSeconds: 90 };

export const hdrs = (h: Record<string, string>) => ({ get: (n: string) => h[n], has: (n: string) => n in h });

export interface Sent {
  status: number;
  headers: Record<string, string>;
}

export function sessionCall(o: {
  aInvite: Record<string, string>;
  bAnswer: Record<string, string>;
  bSessionAsked?: number;
}) {
  const clock = new ManualClock(0);
  const a = new FakeDialog();
  const b = new FakeDialog();
  (b as unknown as { res: unknown }).res = hdrs(o.bAnswer);
  const aInvite = hdrs(o.aInvite);
  const aSession = decideUas(aInvite, policy) as Extract<UasSessionDecision, { ok: true }>;
  const { log } = captureLog();
  const ends: CallEnd[] = [];
  runConnectedCall({
    legs: { uas: a, uac: b }, log, stats: new CallStats(), clock, callId: 'c1', aInvite, limits: { sessionTimer: policy }, aSession,
    ...(o.bSessionAsked !== undefined ? { bSessionAsked: o.bSessionAsked } : {}), onEnded: (e) => ends.push(e),
  });
  /** Moves the clock second by second, letting each refresh be answered. */
  const advance = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      clock.advance(1000);
      await settle();
    }
  };
  /** A request from a leg's far end: `modify` (re-INVITE) or `update`; what the gateway answered it. */
  const from = async (leg: FakeDialog, event: 'modify' | 'update', h: Record<string, string>, body?: string) => {
    const sent: Sent[] = [];
    const req = { ...hdrs({ ...h, ...(body ? { 'Content-Type': 'application/sdp' } : {}) }), ...(body ? { body } : {}) };
    leg.emit(event, req, { send: (status: number, opts?: { headers?: Record<string, string> }) => sent.push({ status, headers: opts?.headers ?? {} }) });
    await settle();
    await settle();
    return sent;
  };
  return { clock, a, b, ends, advance, from, now: () => clock.now() / 1000 };
}
