import { StreamFramer, type FrameError } from '../../src/sip/transport/stream-framer.js';
import { fail, guard } from './guard.js';

const MAX_MESSAGE = 4096;

interface Outcome {
  frames: string[];
  pings: number;
  error?: string;
  maxBuffered: number;
}

function frame(chunks: Buffer[]): Outcome {
  const out: Outcome = { frames: [], pings: 0, maxBuffered: 0 };
  const framer = new StreamFramer({
    onFrame: (m) => {
      if (out.error !== undefined) fail('a frame after the frame error');
      out.frames.push(m.toString('latin1'));
    },
    onPing: () => void out.pings++,
    onFrameError: (e: FrameError) => {
      if (out.error !== undefined) fail('a second frame error');
      out.error = e.code;
    },
  }, { maxMessageBytes: MAX_MESSAGE, maxHeaderBytes: 2048 });
  for (const c of chunks) {
    framer.push(c);
    out.maxBuffered = Math.max(out.maxBuffered, framer.buffered);
  }
  return out;
}

/**
 * The SIP stream framer (RFC 3261 §18.3): the first byte picks a chunk size, the rest is the stream. Cut into
 * chunks or given whole, the stream yields the same frames, pings and error; what it holds stays within the
 * message limit; every frame is within the limit.
 */
export const fuzz = guard('stream-framer', (data) => {
  if (data.length === 0) return;
  const size = (data[0]! % 17) + 1;
  const stream = data.subarray(1);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
  const whole = frame([stream]);
  const cut = frame(chunks);
  if (JSON.stringify(whole) !== JSON.stringify({ ...cut, maxBuffered: whole.maxBuffered })) {
    fail(`chunks of ${size} framed differently: ${JSON.stringify(cut).slice(0, 300)} vs ${JSON.stringify(whole).slice(0, 300)}`);
  }
  if (cut.maxBuffered > MAX_MESSAGE) fail(`held ${cut.maxBuffered} bytes, over the ${MAX_MESSAGE} limit`);
  for (const f of cut.frames) if (f.length > MAX_MESSAGE) fail(`a frame of ${f.length} bytes`);
});
