import type { Gateway } from './gateway.js';
import { errorProblem, type ListenersReloadReport, type ReloadProblem, type ReloadTrigger } from './gateway-reload-types.js';
import type { Logger } from './log/index.js';

/**
 * Asks the running engine to try again the tenant listeners that could not bind at start (Gateway.retryListeners),
 * each with the spec it had then. The report is there only when some had failed: which bound now, which still
 * cannot (the engine logs each of those ERR_SIP_TRANSPORT_BIND again). An engine that could not be asked (the
 * worker did not answer) is a warning; its failed listeners stay as they were, for the next reload to try.
 */
export async function retryFailedListeners(gateway: Pick<Gateway, 'retryListeners'>, log: Logger, trigger: ReloadTrigger):
  Promise<{ report?: ListenersReloadReport; warning?: ReloadProblem }> {
  let r;
  try {
    r = await gateway.retryListeners();
  } catch (e) {
    const p = errorProblem(e, 'ERR_ENGINE_WORKER');
    return { warning: { ...p, path: 'listeners', message: `the listeners that could not bind at start were not tried again: ${p.message}` } };
  }
  if (r.bound.length === 0 && r.stillFailed.length === 0) return {};
  const report: ListenersReloadReport = { bound: r.bound.map((l) => l.id), stillFailed: r.stillFailed.map((f) => ({ id: f.id, error: f.error })) };
  log.info({ trigger, bound: report.bound, stillFailed: report.stillFailed },
    `trunkgate: listeners that could not bind at start tried again: ${report.bound.length > 0 ? `bound ${report.bound.join(', ')}` : 'none bound'}` +
    `${report.stillFailed.length > 0 ? `; still down: ${report.stillFailed.map((f) => f.id).join(', ')}` : ''}`);
  return { report };
}
