import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ManualClock } from '../../../../src/common/index.js';
import { RefusedInputLog } from '../../../../src/sip/transport/input-log.js';

function capture() {
  const lines: Array<{ level: number; msg: string; code?: string; suppressed?: number }> = [];
  const dest = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l)); cb(); } });
  return { log: pino({ level: 'info' }, dest), lines };
}

test('refused input: the first of a code is a warn line at once, then one per code per interval with the count left out', () => {
  const clock = new ManualClock(0);
  const { log, lines } = capture();
  const r = new RefusedInputLog(log, clock, 60_000);
  r.refused('ERR_SIP_PARSE_CSEQ', 'bad CSeq', '127.0.0.1:5000', 'udp', 'sent 400');
  for (let i = 0; i < 5; i++) r.refused('ERR_SIP_PARSE_CSEQ', 'bad CSeq', '127.0.0.1:5000', 'udp', 'sent 400');
  r.refused('ERR_SIP_PARSE_URI', 'bad URI', '127.0.0.1:5000', 'tcp', 'sent 400');
  assert.deepEqual(lines.map((l) => [l.level, l.code]), [[40, 'ERR_SIP_PARSE_CSEQ'], [40, 'ERR_SIP_PARSE_URI']]);
  clock.advance(60_000);
  r.refused('ERR_SIP_PARSE_CSEQ', 'bad CSeq', '127.0.0.1:5000', 'udp', 'sent 400');
  assert.equal(lines.length, 3);
  assert.equal(lines[2]!.suppressed, 5);
  assert.match(lines[2]!.msg, /and 5 more with this code/);
});
