/** The SIP status a failed createB2BUA carries (drachtio-srf's SipError), or undefined for any other error. */
export function sipErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; status?: unknown };
  return e.name === 'SipError' && typeof e.status === 'number' ? e.status : undefined;
}
