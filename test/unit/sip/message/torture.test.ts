import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkRequest, parseMessage, serializeMessage, getHeader } from '../../../../src/sip/message/index.js';

export interface TortureCase {
  file: string;
  rfc: number;
  section: string;
  valid: boolean;
  expect: 'parse' | 'reject' | number;
  note: string;
}

const dir = join(import.meta.dirname, '../../../fixtures/sip');
const cases = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as TortureCase[];

test('the RFC 4475 manifest covers every message of the RFC', () => {
  assert.equal(cases.filter((c) => c.rfc === 4475).length, 49);
});

for (const c of cases) {
  test(`RFC ${c.rfc} §${c.section} ${c.file}: ${c.note} → ${c.expect}`, () => {
    const bytes = readFileSync(join(dir, c.file));
    const r = parseMessage(bytes);
    if (c.expect === 'reject') {
      assert.equal(r.ok, false, 'the parser refuses it');
      return;
    }
    assert.ok(r.ok, r.ok ? '' : `${r.code}: ${r.reason}`);
    const msg = r.message;
    const problem = msg.kind === 'request' ? checkRequest(msg) : undefined;
    if (c.expect === 'parse') {
      assert.equal(problem, undefined, problem?.reason);
      // serialise and parse again: the same start line, headers and body
      const again = parseMessage(serializeMessage(msg));
      assert.ok(again.ok);
      assert.equal(again.message.kind, msg.kind);
      assert.deepEqual(again.message.body, msg.body);
      assert.equal(getHeader(again.message, 'call-id'), getHeader(msg, 'call-id'));
      assert.equal(again.message.headers.filter((h) => h.name !== 'content-length').length,
        msg.headers.filter((h) => h.name !== 'content-length').length);
    } else {
      assert.equal(problem?.status, c.expect, problem ? problem.reason : 'no problem found');
    }
  });
}
