/**
 * The status codes drachtio-srf's `Response#send` accepts: its `sip-status` table, which it checks every status
 * against (test/unit/b2bua/sendable-status.test.ts keeps the two the same). Any other status makes `send` throw.
 */
const KNOWN: ReadonlySet<number> = new Set([
  100, 180, 181, 182, 183, 199, 200, 202, 204, 300, 301, 302, 305, 380, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409,
  410, 411, 412, 413, 414, 415, 416, 417, 420, 421, 422, 423, 424, 428, 429, 430, 433, 436, 437, 438, 439, 470, 480, 481,
  482, 483, 484, 485, 486, 487, 488, 489, 491, 493, 494, 500, 501, 502, 503, 504, 505, 513, 580, 600, 603, 604, 606,
]);

/** Whether drachtio-srf's `Response#send` takes this status as it is. */
export function srfKnowsStatus(status: number): boolean {
  return KNOWN.has(status);
}

/**
 * The status to send on the A leg for a status a far end answered with: the same one when drachtio-srf knows it,
 * else what RFC 3261 makes of an unknown code: a provisional other than 100 is a 183 (§21.1: "UACs MUST treat any
 * provisional response different than 100 that they do not recognize as 183"), a final one the x00 of its class
 * (§8.1.3.2). A Reason sent with it keeps the far end's own code.
 * https://www.rfc-editor.org/rfc/rfc3261#section-8.1.3.2
 */
export function sendableStatus(status: number): number {
  if (KNOWN.has(status)) return status;
  if (!Number.isInteger(status) || status < 100 || status > 699) return 500;
  return status < 200 ? 183 : Math.floor(status / 100) * 100;
}

/** A response whose `send` maps each status through sendableStatus, for the ones drachtio-srf relays by itself. */
export function sendableResponse<T extends object>(res: T): T {
  return new Proxy(res, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      const send = Reflect.get(target, prop, receiver) as (status: number, ...rest: unknown[]) => unknown;
      return (status: number, ...rest: unknown[]) => send.call(receiver, sendableStatus(status), ...rest);
    },
  });
}
