import { readFileSync } from 'node:fs';

/** The golden frames in test/fixtures/drachtio/golden-frames.json, with length prefixes. */
export const golden = JSON.parse(
  readFileSync(new URL('../../../fixtures/drachtio/golden-frames.json', import.meta.url), 'utf8'),
) as { appToServer: Record<string, string>; serverToApp: Record<string, string> };

/** The payload of a golden frame (everything after the first `#`). */
export function payloadOf(frame: string): string {
  return frame.slice(frame.indexOf('#') + 1);
}
