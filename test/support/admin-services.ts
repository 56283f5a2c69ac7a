import type { AdminServices } from '../../src/admin/index.js';

const unused = (): never => {
  throw new Error('not called here');
};

/**
 * The least an admin server needs: /stats and /metrics without an engine part (as against drachtio-server), a b2bua
 * that saw no call, and every other service one that throws if called.
 */
export function minimalAdminServices(): AdminServices {
  return {
    engineSnapshot: unused, reloadTls: unused, reloadConfig: unused,
    engine: () => ({ mode: 'external', control: '-', connected: true }),
    b2buaStats: () => ({ attempted: 0, connected: 0, completed: 0, failed: {}, failedTotal: 0, active: 0 }) as unknown as ReturnType<AdminServices['b2buaStats']>,
  };
}
