/**
 * The user part of a sip:, sips: or tel: URI, percent-decoded, without user parameters (`;npdi`, `;rn=`): the number
 * a call is classified, permitted and recorded by. One reading for the call policy and for the engine's refusal
 * records, so a refused call's CDR names the number its admitted retry would.
 */
export function calledUser(uri: string): string | undefined {
  const m = /^(?:sips?:([^@?>]+)@|tel:([^;?>]+))/i.exec(uri.trim());
  // User parameters after the number are not part of it: the number ends at ';'.
  const raw = (m?.[1] ?? m?.[2])?.split(';')[0];
  if (raw === undefined) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The user part of a From/To/Contact value (name-addr or addr-spec), as calledUser reads a URI. */
export function addressUser(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const angle = /<([^>]*)>/.exec(value);
  return calledUser(angle ? angle[1]! : value.split(';')[0]!);
}
