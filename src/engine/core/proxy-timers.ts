import type { Clock, TimerHandle } from '../../common/clock.js';
import type { SipRequest } from '../../sip/message/types.js';
import type { Flow } from '../../sip/transport/types.js';
import type { CoreGuard } from './core-guard.js';
import { parseTimeout } from './proxy-hop.js';
import type { ProxyHost } from './proxy-host.js';

/** "The value of Timer C MUST be greater than 3 minutes." https://www.rfc-editor.org/rfc/rfc3261#section-16.6 */
export const TIMER_C_MS = 181_000;

/** The proxy's host with the line of a branch Timer C ended. */
export interface TimedProxyHost extends ProxyHost {
  /** Timer C of a branch of a proxied INVITE fired: it is CANCELled (`provisional`) or counts as a 408. */
  timerC(request: SipRequest, flow: Flow, uri: string, provisional: boolean): void;
}

/** How Timer C is counted and logged (rate-limited per code with the core's other refusals). */
export function timerCLine(guard: Pick<CoreGuard, 'counted'>): TimedProxyHost['timerC'] {
  return (request, flow, uri, provisional) => guard.counted('proxyTimerC', 'ERR_ENGINE_PROXY_TIMER_C', 'no final response within Timer C', flow,
    `${request.method} proxied to ${uri.slice(0, 255)}: no final response within Timer C, ${provisional ? 'CANCELled' : 'taken as 408'}`);
}

/** What the timers of one branch read. */
interface TimedBranch {
  readonly done: boolean;
  readonly provisional: boolean;
}

/**
 * The timers of one proxy branch: the app's (provisionalTimeout, else finalTimeout, docs/control-protocol.md §2.5)
 * and, for an INVITE, Timer C: "the proxy MUST [...] set a timer C for this transaction" and "Timer C [...] MUST
 * be reset with each provisional response received" (RFC 3261 §16.6 step 11, §16.7 step 2); it is Timer C's 181 s,
 * or the app's finalTimeout when that is longer.
 */
export class BranchTimers {
  readonly #clock: Clock;
  readonly #cMs: number | undefined;
  readonly #onTimerC: () => void;
  #app: TimerHandle | undefined;
  #c: TimerHandle | undefined;
  #stopped = false;

  constructor(clock: Clock, branch: TimedBranch, o: { invite: boolean; provisionalTimeout: string; finalTimeout: string },
    onAppTimeout: () => void, onTimerC: () => void) {
    this.#clock = clock;
    this.#onTimerC = onTimerC;
    const pt = parseTimeout(o.provisionalTimeout);
    const ft = parseTimeout(o.finalTimeout);
    const wait = pt ?? ft;
    if (wait !== undefined) {
      this.#app = clock.setTimeout(() => {
        this.#app = undefined;
        if (branch.done || (pt !== undefined && branch.provisional && ft === undefined)) return;
        onAppTimeout();
      }, wait);
    }
    this.#cMs = o.invite ? Math.max(TIMER_C_MS, ft ?? 0) : undefined;
    this.#restartC();
  }

  /** A provisional response above 100 came: Timer C starts over. */
  provisional(): void {
    this.#restartC();
  }

  stop(): void {
    this.#stopped = true;
    this.#app?.cancel();
    this.#app = undefined;
    this.#c?.cancel();
    this.#c = undefined;
  }

  #restartC(): void {
    if (this.#cMs === undefined || this.#stopped) return;
    this.#c?.cancel();
    this.#c = this.#clock.setTimeout(() => {
      this.#c = undefined;
      this.#onTimerC();
    }, this.#cMs);
  }
}
