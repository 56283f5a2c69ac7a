/** Stable codes of policy outcomes (values, never thrown). */
export type PolicyCode =
  /** The caller's permissions forbid the number's category: 403. */
  | 'ERR_POLICY_DENIED'
  /** No TLS peer matched and the tenant says `unknownPeer: reject`: 403. */
  | 'ERR_POLICY_UNKNOWN_PEER'
  /** No dial peer matches the called number for this source tenant: 404. */
  | 'ERR_POLICY_NO_ROUTE';
