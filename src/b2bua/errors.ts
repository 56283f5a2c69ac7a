/** Operational failure codes of the b2bua layer (docs/conventions.md, Error codes). */
export type B2buaErrorCode =
  | 'ERR_B2BUA_TARGET_INVALID'
  | 'ERR_B2BUA_CONNECT'
  | 'ERR_B2BUA_AUTH'
  /** A `dns:` target resolved to nothing, or the lookup failed (RFC 3263). */
  | 'ERR_B2BUA_DNS'
  /** A call's `dns:` lookups ran past gateway.outbound.resolveTimeoutMs: the target is passed over (or tried at the addresses found in time). */
  | 'ERR_B2BUA_DNS_DEADLINE'
  /** A policy swap asked of a b2bua that runs the plain bridge. */
  | 'ERR_B2BUA_POLICY'
  /** An app worker did not start, or stopped. */
  | 'ERR_B2BUA_WORKER'
  /** The pool's copy of an app worker's call list is full (held-calls.ts): calls past it get no record if the worker is lost. */
  | 'ERR_B2BUA_HELD_COPY_FULL'
  /** More tenants and dial peers over all reloads than the apps' shared call counts hold: the rest are limited per app. */
  | 'ERR_B2BUA_SHARED_COUNTS_FULL'
  /** The warm-up of the b2bua thread or of an app worker (src/prewarm/b2bua-prewarm.ts) failed; it goes on without it. */
  | 'ERR_B2BUA_PREWARM';

/** Stable codes of the b2bua's log lines for refusals and call ends (rate-limited per code and source). */
export type B2buaLogCode =
  | 'ERR_B2BUA_TOO_MANY_HOPS'
  | 'ERR_B2BUA_DENIED'
  /** A called number neither digits (an optional leading +) nor a feature code: 484 (middleware/classify-number.ts). */
  | 'ERR_B2BUA_NUMBER_INVALID'
  | 'ERR_B2BUA_PEER_HEADER_FORGED'
  | 'ERR_B2BUA_NO_TENANT'
  | 'ERR_B2BUA_NO_ROUTE'
  | 'ERR_B2BUA_BYE_FAILED'
  | 'ERR_B2BUA_CONTROL'
  | 'ERR_B2BUA_DRAINING'
  | 'ERR_B2BUA_CALL_HANDLER'
  /** The CDR sink threw on a record: the record is still in its `cdr` log line. */
  | 'ERR_B2BUA_CDR_SINK'
  /** More calls refused before any B leg than gateway.limits.refusalCdrsPerSecond: those past it get no CDR and no `cdr` line, only a count. */
  | 'ERR_B2BUA_REFUSAL_CDR_RATE'
  /** A REGISTER on a tenant without registerRelay (403), or one that could not be relayed; a MESSAGE or NOTIFY to no relayed binding (404). */
  | 'ERR_B2BUA_REGISTER_REFUSED'
  /** A tenant's relayed registrations are at its registerRelay.maxBindings: a REGISTER from a new flow got 503, or a binding past it was not kept. */
  | 'ERR_B2BUA_REGISTER_RELAY_FULL'
  /** A request to a relayed binding with a flow token that does not verify, or from a source not the registrar's: 403. */
  | 'ERR_B2BUA_FLOW_TOKEN_INVALID'
  /** A request with a good flow token whose flow has no live relayed binding (the phone de-registered, or its binding ran out): 430 Flow Failed. */
  | 'ERR_B2BUA_FLOW_FAILED'
  /** A registration trunk's registrar answered 423 again to the one retry with its Min-Expires (or 423 with no usable one): a failure, retried after the wait. */
  | 'ERR_B2BUA_REGISTER_TOO_BRIEF'
  /** A tenant or dial peer at its maxCalls: a new call from that tenant, or one whose every target was at its limit, got 503. */
  | 'ERR_B2BUA_CALL_LIMIT'
  /** A tenant or dial peer over its maxCallsPerSecond: a new call from that tenant, or one whose first target passed over was over its rate, got 503. */
  | 'ERR_B2BUA_CALL_RATE'
  /** A call whose offer or answer kept no SRTP suite both tenants allow, or broke a tenant's SRTP media policy: 488. */
  | 'ERR_B2BUA_SRTP_REFUSED'
  /** A call whose Session-Expires was below the gateway's Min-SE: 422 (RFC 4028). */
  | 'ERR_B2BUA_MIN_SE'
  /** An INVITE whose body is not application/sdp (a multipart one): 415 with Accept and a Reason, before any B leg. */
  | 'ERR_B2BUA_BODY_UNSUPPORTED'
  /** A re-INVITE, UPDATE or INFO of a connected call the gateway refused itself (488, 415, 503, 500). */
  | 'ERR_B2BUA_IN_DIALOG_REFUSED'
  /** A B leg's or a registration trunk's digest challenge came from a realm other than its tenant's: not answered. */
  | 'ERR_B2BUA_DIGEST_REALM'
  /** A digest challenge not answered: not the auth-param grammar, a parameter given twice, more than one challenge, none, or read otherwise by drachtio-srf. */
  | 'ERR_B2BUA_DIGEST_CHALLENGE'
  /** A digest challenge not answered: not Digest, an algorithm other than MD5, or a qop without auth (all drachtio-srf computes). */
  | 'ERR_B2BUA_DIGEST_UNSUPPORTED'
  /** A B leg failed (no answer in time, unreachable, a failover status); the next dial peer is tried, if any. */
  | 'ERR_B2BUA_LEG_FAILED'
  /** An address a `dns:` target resolved to (a call target, an OPTIONS ping, a registrar) is loopback, unspecified, link-local, multicast, broadcast or the gateway's own, and gateway.outbound.allowResolved does not hold it: not sent to. */
  | 'ERR_B2BUA_TARGET_REFUSED'
  /** A DNS answer had more NAPTR/SRV records or addresses than gateway.outbound.maxSrvRecords / maxAddressesPerName: the rest not used. */
  | 'ERR_B2BUA_DNS_CAPPED'
  /** A call had more targets (configured and resolved) than gateway.outbound.maxTargetsPerCall: the rest not tried. */
  | 'ERR_B2BUA_TARGETS_CAPPED'
  /** Dial peers whose every target the OPTIONS ping found down were passed over for a call (another was up). */
  | 'ERR_B2BUA_DIAL_PEER_SKIPPED'
  /** The gateway ended a connected call itself (session timer, a lost leg, no media, maximum duration, shutdown, hang-up). */
  | 'ERR_B2BUA_CALL_ENDED';

/** Events of the b2bua an operator watches for (listed with what to do in src/events.ts). */
export type B2buaEventCode =
  /** An OPTIONS-pinged trunk answers again. */
  | 'EVT_TRUNK_UP'
  /** An OPTIONS-pinged trunk stopped answering. */
  | 'EVT_TRUNK_DOWN'
  /** A TLS caller's certificate identities matched no TLS peer; the tenant's defaults applied. */
  | 'EVT_TLS_PEER_UNMATCHED'
  /** A registration trunk's binding is up at its registrar. */
  | 'EVT_REGISTRATION_UP'
  /** A registration trunk failed to register or refresh. */
  | 'EVT_REGISTRATION_DOWN'
  /** A registration trunk's registrar stopped answering its probes, or answered over a new connection: it registers again. */
  | 'EVT_REGISTRATION_RENEW';
