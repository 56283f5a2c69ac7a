import type { RegisterSrf } from '../../../src/b2bua/registrations.js';

/** A request a registration trunk sent: its method and headers (CSeq apart too), and how to answer it. */
export interface SentRequest {
  method: string;
  headers: Record<string, string>;
  cseq?: string;
  answer(status: number, headers?: Record<string, string>): void;
}

/**
 * A drachtio-srf stand-in for Registrations: it records each request, answered when the test says so; an OPTIONS
 * probe is answered 200 at once while `optionsAnswered` (when given) says so.
 */
export function fakeRegisterSrf(o: { optionsAnswered?: () => boolean } = {}): RegisterSrf & { sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  return {
    sent,
    request(_uri, opts, cb) {
      let onResponse: ((res: { status: number; get(n: string): string | undefined }) => void) | undefined;
      const answer = (status: number, headers: Record<string, string> = {}) =>
        onResponse?.({ status, get: (n) => Object.entries(headers).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1] });
      sent.push({ method: opts.method, headers: opts.headers, ...(opts.headers.CSeq !== undefined ? { cseq: opts.headers.CSeq } : {}), answer });
      cb(null, {
        on: (_e, fn) => {
          onResponse = fn;
          if (opts.method === 'OPTIONS' && o.optionsAnswered?.()) queueMicrotask(() => answer(200));
        },
      });
      return undefined;
    },
  };
}
