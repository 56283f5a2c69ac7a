// Two legs relayed by passThrough with a call's counters and a rate-limited refusal log, for the pass-through tests.
import { CallStats } from '../../../src/b2bua/index.js';
import type { InDialogMedia } from '../../../src/b2bua/call-sdp.js';
import { passThrough, type InDialogRequest } from '../../../src/b2bua/pass-through.js';
import { ManualClock } from '../../../src/common/index.js';
import { RateLimitedLog } from '../../../src/log/index.js';
import { captureLog } from './fake-srf.js';
import { FakeDialog } from './pipeline-fakes.js';

/** The code of the b2bua's in-dialog refusal lines. */
export const CODE = 'ERR_B2BUA_IN_DIALOG_REFUSED';

/** An in-dialog request as drachtio-srf hands it over: a body and headers. */
export function inDialog(body?: string, headers: Record<string, string> = {}): InDialogRequest {
  return { ...(body !== undefined ? { body } : {}), get: (n) => headers[n], has: (n) => n in headers };
}

/** `suites`: the SRTP suites both legs were set up with (none: plain RTP); `media`: the call's media relay. */
export function relay(o: { suites?: string[]; media?: InDialogMedia } = {}) {
  const { log, lines } = captureLog();
  const stats = new CallStats();
  const uas = new FakeDialog();
  const uac = new FakeDialog();
  const lost: string[] = [];
  passThrough({
    log, callId: 'c1', stats, refusals: new RateLimitedLog(log, new ManualClock(0)), sources: { A: '127.0.0.1', B: 'dial-peer:intl' },
    ...(o.suites ? { aSuites: o.suites, bSuites: o.suites } : {}),
    onLegLost: (leg, status) => lost.push(`${leg} ${status}`), ...(o.media ? { media: o.media } : {}),
  }, { uas, uac });
  const coded = () => lines.filter((l) => l.code === CODE && (l.level as number) >= 30);
  return { stats, uas, uac, lost, lines, coded };
}
