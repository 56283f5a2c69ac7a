import type { FastifyPluginAsync } from 'fastify';
import type { AdminActions } from '../admin-actions.js';
import type { AdminServices } from '../admin-services.js';
import { callsSchema, clearedHow, hangUpSchema, LIST_LIMIT_DEFAULT, limitQuerySchema } from '../call-schemas.js';
import type { AdminErrorCode } from '../errors.js';
import { errorSchema } from '../schemas.js';

const idParams = {
  type: 'object', required: ['id'], additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64, description: 'a call id from GET /calls' } },
} as const;

/**
 * GET /calls (every app's live calls, ringing or connected) and DELETE /calls/:id (BYE on both legs; for a call still
 * ringing, CANCEL towards the called side and 480 to the caller; the CDR's cause `admin`): CUBE's
 * `show call active voice brief` and `clear call voice causecode`.
 */
export function callsRoutes(services: AdminServices, actions: AdminActions): FastifyPluginAsync {
  return async (app) => {
    app.get('/calls', {
      schema: {
        summary: 'Live calls of every b2bua app, connected then ringing: id, Call-IDs, tenants in and out, numbers, state, start and answer time, duration, app',
        tags: ['b2bua'],
        querystring: limitQuerySchema,
        response: { 200: callsSchema },
      },
    }, async (req) => {
      const limit = (req.query as { limit?: number }).limit ?? LIST_LIMIT_DEFAULT;
      const list = services.listCalls ? await services.listCalls(limit) : { calls: [], total: 0, unanswered: [] };
      return {
        count: list.calls.length, total: list.total, truncated: list.total > list.calls.length, calls: list.calls,
        ...(list.unanswered.length > 0 ? { unansweredApps: list.unanswered } : {}),
      };
    });

    app.delete('/calls/:id', {
      schema: {
        summary: 'Clear a call: BYE with a Reason on both legs (a ringing call: CANCEL to the called side, 480 with the Reason to the caller); its CDR says cause admin (404 for an unknown id, 409 when it is already ending)',
        tags: ['b2bua'],
        params: idParams,
        response: { 200: hangUpSchema, 404: errorSchema, 409: errorSchema },
      },
    }, async (req, reply) => {
      const { id } = req.params as { id: string };
      const r = services.hangUpCall ? await services.hangUpCall(id) : { outcome: 'unknown' as const };
      if (r.outcome === 'unknown') {
        actions.count('clear-call', 'not-found');
        const code: AdminErrorCode = 'ERR_ADMIN_CALL_NOT_FOUND';
        return reply.code(404).send({ code, message: `no live call ${id}` });
      }
      if (r.outcome === 'already-ending') {
        actions.count('clear-call', 'conflict');
        const code: AdminErrorCode = 'ERR_ADMIN_CALL_ENDING';
        return reply.code(409).send({ code, message: `call ${id} is already ending` });
      }
      actions.count('clear-call', 'done');
      req.log.info({ code: 'EVT_ADMIN_CALL_CLEARED', call: id, callIds: r.call.callIds, app: r.call.app, state: r.outcome },
        `admin: call ${id} (${r.call.callIds[0] ?? '-'}) cleared: ${clearedHow(r.call.answerAt)}`);
      return { id, state: r.outcome, call: { ...r.call, state: 'ending' } };
    });
  };
}
