import type { Worker } from 'node:worker_threads';
import type { ActiveCallRow, CallList } from '../active-calls.js';
import type { FromAppWorker, ToAppWorker } from './messages.js';

type Answer = Extract<FromAppWorker, { type: 'calls' | 'hangUp' }>;

/**
 * The pool's questions to its app workers (call list, hang-up), each matched to its answer by id. A worker that
 * does not answer within the time given, or exits first, gets `undefined`: a slow app never holds the admin API.
 */
export class AppQueries {
  #seq = 0;
  readonly #waiting = new Map<number, { worker: Worker; done: (a: Answer | undefined) => void }>();

  /** Posts `message(id)` to `worker` and resolves with its answer, or undefined after `timeoutMs`. */
  ask(worker: Worker, message: (id: number) => ToAppWorker, timeoutMs: number): Promise<Answer | undefined> {
    const id = ++this.#seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#settle(id, undefined), timeoutMs);
      this.#waiting.set(id, {
        worker,
        done: (a) => {
          clearTimeout(timer);
          resolve(a);
        },
      });
      worker.postMessage(message(id));
    });
  }

  /** Takes a worker's message when it answers a question; false for any other message. */
  answer(m: FromAppWorker): boolean {
    if (m.type !== 'calls' && m.type !== 'hangUp') return false;
    this.#settle(m.id, m);
    return true;
  }

  /** A worker that exited answers nothing more. */
  dropWorker(worker: Worker): void {
    for (const [id, w] of this.#waiting) if (w.worker === worker) this.#settle(id, undefined);
  }

  #settle(id: number, a: Answer | undefined): void {
    const w = this.#waiting.get(id);
    if (!w) return;
    this.#waiting.delete(id);
    w.done(a);
  }
}

/** Every app's list as one: calls by answer time, cut at `limit`; totals summed; apps that did not answer named. */
export function mergeCallLists(parts: ReadonlyArray<{ app: number; list: CallList | undefined }>, limit: number): CallList {
  const calls: ActiveCallRow[] = [];
  let total = 0;
  const unanswered: number[] = [];
  for (const p of parts) {
    if (!p.list) {
      unanswered.push(p.app);
      continue;
    }
    calls.push(...p.list.calls);
    total += p.list.total;
    unanswered.push(...p.list.unanswered);
  }
  // Connected calls by answer time, then the ones still ringing by start time (as each app lists them).
  calls.sort((a, b) => (a.answerAt === null ? 1 : 0) - (b.answerAt === null ? 1 : 0) || (a.answerAt ?? a.startAt) - (b.answerAt ?? b.startAt)
    || a.id.localeCompare(b.id));
  return { calls: calls.slice(0, limit), total, unanswered };
}
