import { FrameDecoder, encodeFrame, parseControlMessage } from '../../src/engine/wire/index.js';
import { fail, guard } from './guard.js';

const MAX_FRAME = 8192;

function decode(chunks: Buffer[]): { frames: string[]; error?: string; maxBuffered: number } {
  const d = new FrameDecoder({ maxFrameBytes: MAX_FRAME });
  const frames: string[] = [];
  let error: string | undefined;
  let maxBuffered = 0;
  for (const c of chunks) {
    const r = d.push(c);
    frames.push(...r.frames);
    if (r.error) {
      error ??= r.error.code;
      break;
    }
    maxBuffered = Math.max(maxBuffered, d.buffered);
  }
  return { frames, ...(error ? { error } : {}), maxBuffered };
}

/**
 * The drachtio control-frame decoder (`len#payload`): the first byte picks a chunk size. Cut or whole, the same
 * payloads and error; never more held than one frame and its length prefix; each payload re-encodes to its bytes
 * and parses (or is refused) without throwing.
 */
export const fuzz = guard('frame-decoder', (data) => {
  if (data.length === 0) return;
  const size = (data[0]! % 13) + 1;
  const stream = data.subarray(1);
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += size) chunks.push(stream.subarray(i, i + size));
  const whole = decode([stream]);
  const cut = decode(chunks);
  if (JSON.stringify(whole.frames) !== JSON.stringify(cut.frames) || whole.error !== cut.error) {
    fail(`chunks of ${size} decoded differently`);
  }
  if (cut.maxBuffered > MAX_FRAME + 8) fail(`held ${cut.maxBuffered} bytes`);
  for (const f of cut.frames) {
    if (Buffer.byteLength(f) > MAX_FRAME) fail('a payload over the limit');
    parseControlMessage(f);
    const again = new FrameDecoder({ maxFrameBytes: MAX_FRAME }).push(encodeFrame(f));
    if (again.error || again.frames.length !== 1 || again.frames[0] !== f) fail('a payload does not survive encodeFrame');
  }
});
