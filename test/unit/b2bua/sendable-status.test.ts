import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { sendableResponse, sendableStatus, srfKnowsStatus } from '../../../src/b2bua/sendable-status.js';

/** The table drachtio-srf's Response#send checks statuses against, loaded from where drachtio-srf loads it. */
function srfTable(): number[] {
  const req = createRequire(import.meta.url);
  const table = createRequire(req.resolve('drachtio-srf'))('sip-status') as Record<string, string>;
  return Object.keys(table).map(Number);
}

test('sendable status: the codes taken as they are are exactly drachtio-srf\'s table', () => {
  const table = srfTable();
  for (let s = 100; s < 700; s++) assert.equal(srfKnowsStatus(s), table.includes(s), String(s));
});

test('sendable status: a known code is kept; an unknown provisional is 183, an unknown final its class\'s x00', () => {
  const cases: Array<[number, number]> = [
    [180, 180], [199, 199], [204, 204], [380, 380], [494, 494], [580, 580], [606, 606],
    [101, 183], [184, 183], [201, 200], [399, 300], [425, 400], [555, 500], [599, 500], [607, 600], [608, 600],
    [0, 500], [99, 500], [700, 500], [183.5, 500],
  ];
  assert.deepEqual(cases.map(([s]) => [s, sendableStatus(s)]), cases);
});

test('sendable response: send gets the mapped status and the rest as given', () => {
  const sent: unknown[][] = [];
  const res = { finalResponseSent: false, send(...args: unknown[]) { sent.push(args); } };
  const cb = () => undefined;
  sendableResponse(res).send(607, 'Unwanted', { headers: { Reason: 'SIP;cause=607' } }, cb);
  assert.deepEqual(sent, [[600, 'Unwanted', { headers: { Reason: 'SIP;cause=607' } }, cb]]);
  assert.equal(sendableResponse(res).finalResponseSent, false);
});
