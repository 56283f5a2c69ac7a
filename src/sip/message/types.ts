/**
 * SIP message model (RFC 3261 §7). This file is the contract between the message layer and the layers
 * above it; parse.ts, serialize.ts and the header helpers implement it.
 */

/** One header line after unfolding (RFC 3261 §7.3.1) and compact-form expansion. */
export interface SipHeader {
  /** Canonical long form, lower case: 'via', 'call-id', 'content-length', 'x-foo'. */
  name: string;
  /** The name as it appeared on the wire (or the canonical display form for generated headers). */
  raw: string;
  /** The value with leading and trailing white space removed; comma lists are kept as one value. */
  value: string;
}

export interface SipRequest {
  kind: 'request';
  method: string;
  /** Request-URI text exactly as on the start line. */
  uri: string;
  /** 'SIP/2.0' */
  version: string;
  headers: SipHeader[];
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  version: string;
  headers: SipHeader[];
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export type SipUriScheme = 'sip' | 'sips' | 'tel';

export interface SipUri {
  scheme: SipUriScheme;
  user?: string;
  password?: string;
  /** Host name, IPv4 literal, or IPv6 reference including its brackets ('[::1]'). For tel: the number. */
  host: string;
  port?: number;
  /** uri-parameters; a parameter without value maps to null. Names lower-cased. */
  params: Record<string, string | null>;
  /** headers part (?a=b&c=d), unescaped. */
  headers: Record<string, string>;
}

export interface NameAddr {
  displayName?: string;
  uri: SipUri;
  /** header parameters (tag, expires, q, ...); names lower-cased; a parameter without value maps to null. */
  params: Record<string, string | null>;
}

export interface Via {
  /** 'SIP' */
  protocolName: string;
  /** '2.0' */
  protocolVersion: string;
  /** Upper case: 'UDP', 'TCP', 'TLS', 'SCTP', 'WS', 'WSS'. */
  transport: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

export type ParseErrorCode =
  | 'ERR_SIP_PARSE_TOO_LARGE'
  | 'ERR_SIP_PARSE_LINE_TOO_LONG'
  | 'ERR_SIP_PARSE_TOO_MANY_HEADERS'
  | 'ERR_SIP_PARSE_START_LINE'
  | 'ERR_SIP_PARSE_VERSION'
  | 'ERR_SIP_PARSE_HEADER'
  | 'ERR_SIP_PARSE_MISSING_HEADER'
  | 'ERR_SIP_PARSE_CSEQ'
  | 'ERR_SIP_PARSE_VIA'
  | 'ERR_SIP_PARSE_URI'
  | 'ERR_SIP_PARSE_CONTENT_LENGTH'
  | 'ERR_SIP_PARSE_EMPTY'
  /** A control character (NUL, a bare CR or LF, DEL, C1, U+2028/2029) in a header value. */
  | 'ERR_SIP_PARSE_CONTROL_CHARACTER'
  /** A Call-ID that is not word[@word] (RFC 3261 §25.1). */
  | 'ERR_SIP_PARSE_CALL_ID'
  | 'ERR_SIP_PARSE_FROM'
  | 'ERR_SIP_PARSE_TO'
  /** Contact, Route, Record-Route, Path, Refer-To, Referred-By, P-Asserted-Identity or Remote-Party-ID. */
  | 'ERR_SIP_PARSE_ADDRESS'
  | 'ERR_SIP_PARSE_MAX_FORWARDS'
  /** Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate or Authentication-Info. */
  | 'ERR_SIP_PARSE_AUTH'
  /** A single-valued header (RFC 3261 §7.3.1) repeated. */
  | 'ERR_SIP_PARSE_DUPLICATE_HEADER';

export type ParseResult =
  | { ok: true; message: SipMessage }
  | {
      ok: false;
      code: ParseErrorCode;
      reason: string;
      /**
       * When the start line was a request and the headers needed to address a response (Via, From, To,
       * Call-ID, CSeq) could be read, the request as far as it was parsed, so the caller can answer 400.
       */
      partial?: SipRequest;
    };

/** Bounds that keep hostile input cheap. */
export interface ParseLimits {
  /** Largest message accepted, in bytes (default 65,535). */
  maxMessageBytes: number;
  /** Most header lines accepted (default 256). */
  maxHeaders: number;
  /** Longest line accepted after unfolding, in bytes (default 8,192). */
  maxLineBytes: number;
}
