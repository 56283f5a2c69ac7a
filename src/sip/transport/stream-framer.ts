import type { FrameErrorCode } from './errors.js';

/**
 * Splits a TCP or TLS byte stream into SIP messages (RFC 3261 §18.3) and recognises RFC 5626 keepalives.
 *
 * "In the case of stream-oriented transports such as TCP, the Content-Length header field indicates the size
 * of the body. All implementations MUST use this to find the end of a message."
 * https://www.rfc-editor.org/rfc/rfc3261#section-18.3
 */

const CR = 0x0d;
const LF = 0x0a;
/** "\r\n\r\n" as the four states of a matcher: state m means the first m bytes have been seen. */
const PATTERN = [CR, LF, CR, LF] as const;

export interface StreamFramerOptions {
  /** Largest header block (start line, headers and the empty line), in bytes. Default 32,768. */
  maxHeaderBytes?: number;
  /** Largest message (headers and body), in bytes. Default 65,535. */
  maxMessageBytes?: number;
}

/** A stream that cannot be framed any further; the caller answers 400 when it can, then closes. */
export interface FrameError {
  code: FrameErrorCode;
  reason: string;
  /** Whether the start line of the failing message looked like a request (not 'SIP/…'). */
  requestLine: boolean;
  /** The complete header block (ending with the empty line) when it was read, to address a 400. */
  headerBlock?: Buffer;
}

/** Upward callbacks of the framer, called synchronously from `push`. */
export interface StreamFramerUser {
  /** One complete message: headers, empty line and exactly Content-Length bytes of body. */
  onFrame(message: Buffer): void;
  /** A double-CRLF keepalive ping arrived; the caller answers with a single CRLF (RFC 5626 §3.5.1). */
  onPing(): void;
  /** The stream is broken; nothing more is framed after this. */
  onFrameError(error: FrameError): void;
}

type State = 'boundary' | 'header' | 'body' | 'failed';

export class StreamFramer {
  readonly #user: StreamFramerUser;
  readonly #maxHeader: number;
  readonly #maxMessage: number;
  #state: State = 'boundary';
  /** Boundary state: CRLF pairs seen since the last message, and whether a CR awaits its LF. */
  #crlfRun = 0;
  #pendingCr = false;
  /** Header state: the chunks read so far, their length, and the matcher state across chunks. */
  #parts: Buffer[] = [];
  #length = 0;
  #match = 0;
  /** Body state: total size of the message being completed. */
  #need = 0;

  constructor(user: StreamFramerUser, options: StreamFramerOptions = {}) {
    this.#user = user;
    this.#maxMessage = options.maxMessageBytes ?? 65_535;
    this.#maxHeader = Math.min(options.maxHeaderBytes ?? 32_768, this.#maxMessage);
  }

  /** True once a frame error was reported; further input is ignored. */
  get failed(): boolean {
    return this.#state === 'failed';
  }

  /** Bytes held for an incomplete message. */
  get buffered(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      switch (this.#state) {
        case 'failed':
          return;
        case 'boundary':
          pos = this.#skipKeepalives(chunk, pos);
          break;
        case 'header':
          pos = this.#readHeader(chunk, pos);
          break;
        case 'body':
          pos = this.#readBody(chunk, pos);
          break;
      }
    }
  }

  /**
   * "A client MAY send a keep-alive ping (a double CRLF) ... the server MUST respond with a single CRLF
   * (the pong)." Single CRLFs between messages (pongs, or stray line ends) are ignored.
   * https://www.rfc-editor.org/rfc/rfc5626#section-3.5.1
   */
  #skipKeepalives(chunk: Buffer, pos: number): number {
    const len = chunk.length;
    while (pos < len) {
      const b = chunk[pos]!;
      if (this.#pendingCr) {
        this.#pendingCr = false;
        if (b === LF) {
          pos++;
          if (++this.#crlfRun === 2) {
            this.#crlfRun = 0;
            this.#user.onPing();
          }
          continue;
        }
        // A lone CR before a message: dropped, the message starts here.
      }
      if (b === CR) {
        this.#pendingCr = true;
        pos++;
      } else if (b === LF) {
        pos++;
      } else {
        this.#crlfRun = 0;
        this.#state = 'header';
        this.#parts = [];
        this.#length = 0;
        this.#match = 0;
        return pos;
      }
    }
    return pos;
  }

  #readHeader(chunk: Buffer, pos: number): number {
    const piece = pos === 0 ? chunk : chunk.subarray(pos);
    const end = this.#findHeaderEnd(piece);
    if (end < 0) {
      this.#parts.push(piece);
      this.#length += piece.length;
      if (this.#length > this.#maxHeader) {
        this.#fail('ERR_SIP_FRAME_HEADER_TOO_LARGE', `no end of headers within ${this.#maxHeader} bytes`, undefined);
      }
      return chunk.length;
    }
    const headerBytes = this.#length + end;
    if (headerBytes > this.#maxHeader) {
      this.#parts.push(piece);
      this.#fail('ERR_SIP_FRAME_HEADER_TOO_LARGE', `header block of ${headerBytes} bytes exceeds ${this.#maxHeader}`, undefined);
      return chunk.length;
    }
    this.#parts.push(piece.subarray(0, end));
    const head = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, headerBytes);
    const cl = readContentLength(head);
    if (typeof cl === 'string') {
      const code: FrameErrorCode = cl === 'missing' ? 'ERR_SIP_FRAME_NO_CONTENT_LENGTH' : 'ERR_SIP_FRAME_BAD_CONTENT_LENGTH';
      this.#fail(code, cl === 'missing' ? 'Content-Length missing on a stream transport' : `Content-Length ${cl}`, head);
      return chunk.length;
    }
    const total = headerBytes + cl;
    if (total > this.#maxMessage) {
      this.#fail('ERR_SIP_FRAME_TOO_LARGE', `message of ${total} bytes exceeds ${this.#maxMessage}`, head);
      return chunk.length;
    }
    const rest = piece.length - end;
    if (rest >= cl) {
      // Whole body in this chunk: one copy-free message when the headers came in the same chunk.
      const message = this.#parts.length === 1 ? piece.subarray(0, end + cl) : Buffer.concat([head, piece.subarray(end, end + cl)], total);
      this.#reset();
      this.#user.onFrame(message);
      return pos + end + cl;
    }
    this.#parts = [head, piece.subarray(end)];
    this.#length = headerBytes + rest;
    this.#need = total;
    this.#state = 'body';
    return chunk.length;
  }

  #readBody(chunk: Buffer, pos: number): number {
    const take = Math.min(this.#need - this.#length, chunk.length - pos);
    this.#parts.push(chunk.subarray(pos, pos + take));
    this.#length += take;
    if (this.#length === this.#need) {
      const message = Buffer.concat(this.#parts, this.#need);
      this.#reset();
      this.#user.onFrame(message);
    }
    return pos + take;
  }

  /** Offset just past "\r\n\r\n" in `piece`, continuing a match begun in earlier chunks; -1 if none. */
  #findHeaderEnd(piece: Buffer): number {
    let m = this.#match;
    let i = 0;
    while (m > 0 && i < piece.length) {
      const b = piece[i++]!;
      if (b === PATTERN[m]) {
        if (++m === 4) {
          this.#match = 0;
          return i;
        }
      } else {
        m = b === CR ? 1 : 0;
      }
    }
    if (m === 0) {
      const at = piece.indexOf('\r\n\r\n', i, 'latin1');
      if (at >= 0) {
        this.#match = 0;
        return at + 4;
      }
      for (let j = Math.max(i, piece.length - 3); j < piece.length; j++) {
        const b = piece[j]!;
        m = b === PATTERN[m] ? m + 1 : b === CR ? 1 : 0;
      }
    }
    this.#match = m;
    return -1;
  }

  #reset(): void {
    this.#state = 'boundary';
    this.#parts = [];
    this.#length = 0;
    this.#need = 0;
    this.#match = 0;
  }

  #fail(code: FrameErrorCode, reason: string, headerBlock: Buffer | undefined): void {
    const first = headerBlock ?? this.#parts[0];
    const requestLine = first !== undefined && first.length > 0 && !first.subarray(0, 4).equals(SIP_SLASH);
    this.#state = 'failed';
    this.#parts = [];
    this.#length = 0;
    this.#user.onFrameError(headerBlock ? { code, reason, requestLine, headerBlock } : { code, reason, requestLine });
  }
}

const SIP_SLASH = Buffer.from('SIP/', 'latin1');
const DIGITS = /^[0-9]{1,10}$/;

/**
 * The Content-Length of a header block (long form or compact `l`, any case), or why it cannot be used:
 * 'missing', or a description of the bad value.
 */
export function readContentLength(head: Buffer): number | string {
  const text = head.toString('latin1');
  const values: string[] = [];
  let inValue = false;
  let lineStart = text.indexOf('\r\n') + 2;
  while (lineStart > 1 && lineStart < text.length) {
    let lineEnd = text.indexOf('\r\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    if (lineEnd === lineStart) break;
    const first = text.charCodeAt(lineStart);
    if (first === 0x20 || first === 0x09) {
      // A folded continuation line (RFC 3261 §7.3.1) belongs to the header above it.
      if (inValue) values[values.length - 1] += ' ' + text.slice(lineStart, lineEnd).trim();
    } else {
      inValue = false;
      const colon = text.indexOf(':', lineStart);
      if (colon > lineStart && colon < lineEnd) {
        const name = text.slice(lineStart, colon).trim().toLowerCase();
        if (name === 'content-length' || name === 'l') {
          values.push(text.slice(colon + 1, lineEnd).trim());
          inValue = true;
        }
      }
    }
    lineStart = lineEnd + 2;
  }
  if (values.length === 0) return 'missing';
  let length = -1;
  for (const v of values) {
    const t = v.trim();
    if (!DIGITS.test(t)) return `'${t.slice(0, 32)}' is not a number`;
    const n = Number(t);
    if (length >= 0 && n !== length) return `repeated with values ${length} and ${n}`;
    length = n;
  }
  return length;
}
