import type { PolicyCode } from './errors.js';
import type { PermissionSet } from './types.js';

export type PermissionDecision =
  | { ok: true; category: string | undefined }
  | {
      ok: false;
      code: Extract<PolicyCode, 'ERR_POLICY_DENIED'>;
      status: 403;
      category: string;
      reason: string;
      /** Value of a Reason header for the 403 (RFC 3326). */
      reasonHeader: string;
    };

/**
 * Allows or denies a call to a number of `category`. A number in no category is allowed: categories name
 * what may be restricted (add a catch-all category with a high `order` to restrict the rest). A category
 * missing from the permission set is denied, so a typo never opens a door.
 *
 * RFC 3326 §2: "The Reason header field ... can be used to encapsulate a final status code in a
 * provisional response" and in other requests and responses; its text names the refused category.
 * https://www.rfc-editor.org/rfc/rfc3326#section-2
 */
export function checkPermission(category: string | undefined, permissions: PermissionSet): PermissionDecision {
  if (category === undefined) return { ok: true, category: undefined };
  if (permissions[category] === true) return { ok: true, category };
  const reason = `Calls to ${category} numbers are not permitted`;
  return {
    ok: false,
    code: 'ERR_POLICY_DENIED',
    status: 403,
    category,
    reason,
    reasonHeader: `SIP;cause=403;text="${reason.replace(/["\\]/g, '')}"`,
  };
}
