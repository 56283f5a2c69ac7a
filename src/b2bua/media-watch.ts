import type { Clock } from '../common/index.js';
import { lastPacketAt } from '../media/index.js';

/** What the watch needs of a call's rtpengine session. */
export interface WatchedSession {
  query(): Promise<Record<string, unknown> | undefined>;
}

/**
 * A second dead-call signal beside session timers: asks rtpengine every half `timeoutMs` when it last received
 * media on the call, and calls `onSilent` once when that is more than `timeoutMs` ago (rtpengine counts from the
 * time the streams were set up, so a call that never had media is caught too). A query rtpengine does not answer
 * proves nothing and is skipped. Returns the function that stops the watch.
 */
export function watchMedia(session: WatchedSession, clock: Clock, timeoutMs: number, onSilent: (silentSeconds: number) => void): () => void {
  let stopped = false;
  let timer: { cancel(): void } | undefined;
  const every = Math.max(500, Math.floor(timeoutMs / 2));
  const check = async (): Promise<void> => {
    const reply = await session.query();
    if (stopped) return;
    const last = reply ? lastPacketAt(reply) : undefined;
    const silentMs = last === undefined ? 0 : clock.now() - last * 1000;
    if (silentMs > timeoutMs) {
      stopped = true;
      onSilent(Math.round(silentMs / 1000));
      return;
    }
    timer = clock.setTimeout(() => void check(), every);
  };
  timer = clock.setTimeout(() => void check(), every);
  return () => {
    stopped = true;
    timer?.cancel();
  };
}
