/**
 * The Retry-After (seconds) of a 503 the gateway sends when nothing says otherwise: the default of
 * `gateway.limits.retryAfterSeconds`, and what the engine and the b2bua use when started without a configuration.
 */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;
