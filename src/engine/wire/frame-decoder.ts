import { err, ok, type Result } from '../../common/index.js';
import type { ControlErrorCode } from './errors.js';

/** 1 MiB: far above what any SIP message needs, and far above drachtio-server's silent 12 KB stall. */
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
/** A length prefix of more than 7 digits (≥ 10 MB) is never valid. */
export const MAX_LENGTH_DIGITS = 7;

const HASH = 0x23; // '#'
const ZERO = 0x30;
const NINE = 0x39;

export interface FrameDecodeError {
  code: ControlErrorCode;
  reason: string;
}

export interface FrameDecodeOutcome {
  frames: string[];
  /** Set once the stream is bad; the connection is to be closed. */
  error?: FrameDecodeError;
}

export interface FrameDecoderOptions {
  /** Largest payload accepted, in bytes (default 1 MiB). */
  maxFrameBytes?: number;
}

/**
 * Splits a byte stream into drachtio control frames, `<decimal byte length>#<payload>`, back to back
 * (docs/control-protocol.md §2.1). The length counts UTF-8 bytes, so payloads are cut as bytes and only then
 * decoded. Chunks may split a frame anywhere, including inside the length or inside a multi-byte character.
 * After an error the decoder stays failed: the connection is to be closed.
 */
export class FrameDecoder {
  readonly #maxFrameBytes: number;
  /** Bytes not yet framed, in arrival order, and their total. */
  #chunks: Buffer[] = [];
  #length = 0;
  /** Once a frame's length prefix is read: the bytes (from the first held byte) that complete it; else 0. */
  #need = 0;
  #failed: FrameDecodeError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** Bytes held back waiting for the rest of a frame. */
  get buffered(): number {
    return this.#length;
  }

  /**
   * Feeds one chunk; returns every payload it completes and, when the stream turns bad, the framing error.
   * Frames that precede the bad bytes are still delivered, as a peer reading the stream in order would.
   * A frame whose length is known is joined once, when its last byte arrives: a frame trickled in small
   * chunks costs one copy, not one per chunk.
   */
  push(chunk: Uint8Array): FrameDecodeOutcome {
    if (this.#failed) return { frames: [], error: this.#failed };
    if (chunk.length === 0) return { frames: [] };
    this.#chunks.push(Buffer.from(chunk));
    this.#length += chunk.length;
    if (this.#need > 0 && this.#length < this.#need) return { frames: [] };
    const buf = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
    const out: string[] = [];
    let pos = 0;
    this.#need = 0;
    for (;;) {
      const header = this.#readLength(buf, pos);
      if (header === undefined) break;
      if (!header.ok) {
        this.#failed = { code: header.code, reason: header.reason };
        this.#chunks = [];
        this.#length = 0;
        return { frames: out, error: this.#failed };
      }
      const start = header.value.payloadStart;
      const end = start + header.value.length;
      if (end > buf.length) {
        this.#need = end - pos;
        break;
      }
      out.push(buf.toString('utf8', start, end));
      pos = end;
    }
    // What is left is copied out, so a consumed frame's large backing store is not kept alive.
    const rest = buf.length - pos;
    this.#chunks = rest === 0 ? [] : [pos === 0 ? buf : Buffer.from(buf.subarray(pos))];
    this.#length = rest;
    return { frames: out };
  }

  /** Reads `digits#` at `pos`; undefined when more bytes are needed. */
  #readLength(buf: Buffer, pos: number): Result<{ length: number; payloadStart: number }, ControlErrorCode> | undefined {
    let length = 0;
    let i = pos;
    for (; i < buf.length; i++) {
      const c = buf[i]!;
      if (c === HASH) break;
      if (c < ZERO || c > NINE) {
        return err('ERR_ENGINE_FRAME_BAD_LENGTH', `byte 0x${c.toString(16).padStart(2, '0')} in a frame length prefix`);
      }
      if (i - pos >= MAX_LENGTH_DIGITS) {
        return err('ERR_ENGINE_FRAME_BAD_LENGTH', `frame length prefix longer than ${MAX_LENGTH_DIGITS} digits`);
      }
      length = length * 10 + (c - ZERO);
    }
    if (i >= buf.length) return undefined;
    if (i === pos) return err('ERR_ENGINE_FRAME_BAD_LENGTH', 'empty frame length prefix');
    if (length === 0) return err('ERR_ENGINE_FRAME_BAD_LENGTH', 'zero frame length');
    if (length > this.#maxFrameBytes) {
      return err('ERR_ENGINE_FRAME_TOO_LARGE', `frame of ${length} bytes exceeds the maximum of ${this.#maxFrameBytes}`);
    }
    return ok({ length, payloadStart: i + 1 });
  }
}

/** Frames one payload: `<UTF-8 byte length>#<payload>`. */
export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}#`, 'latin1'), body]);
}
