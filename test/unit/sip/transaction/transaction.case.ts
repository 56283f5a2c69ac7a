/**
 * One suite for the four transaction kinds (STYLE habit 8): what every transaction does alike, written once.
 * Each kind supplies how to start it and how to drive it to its final response.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportProtocol } from '../../../../src/sip/transport/types.js';
import type { TransactionKind } from '../../../../src/sip/transaction/types.js';
import { flush, recordingClientUser, setup, type ClientEvent, type RecordingTu } from './support.js';

export interface Driven {
  state(): string;
  /** Makes the transaction send its first message (request, or a final response for servers). */
  sendFirst(): void;
  /** Drives it to its final response (client: response arrives; server: TU responds). */
  finish(): void;
  /** Transport failures reported upward, as codes. */
  reported(): (string | undefined)[];
}

export interface TransactionSuite {
  kind: TransactionKind;
  make(layer: ReturnType<typeof setup>['layer'], protocol: TransportProtocol, tu: RecordingTu, user: ReturnType<typeof recordingClientUser>): Driven;
  /**
   * A send that fails on a reliable transport once the transaction has ended (its final response passed, so
   * D, I, J and K are zero): a server's TU is still told its response did not leave; a client's TU already has
   * its final response, so the failure only ends the transaction.
   */
  transportFailureAfterEnd: 'reported' | 'not reported';
}

export function clientReported(events: ClientEvent[]): (string | undefined)[] {
  return events.filter((e) => e.type === 'transportError').map((e) => (e.type === 'transportError' ? e.code : undefined));
}

export function runTransactionSuite(suite: TransactionSuite): void {
  const it = (name: string, fn: () => void | Promise<void>) => test(`${suite.kind}: ${name}`, fn);

  it('a transport failure is reported once and the transaction ends', async () => {
    const { layer, transport, tu } = setup();
    const user = recordingClientUser();
    transport.failWith = new Error('ECONNREFUSED');
    const d = suite.make(layer, 'udp', tu, user);
    d.sendFirst();
    await flush();
    assert.deepEqual(d.reported(), ['ERR_SIP_TRANSACTION_TRANSPORT']);
    assert.equal(d.state(), 'Terminated');
    assert.equal(layer.stats().transportErrors, 1);
    assert.equal(layer.stats().live[suite.kind], 0);
  });

  const reportedAfterEnd = suite.transportFailureAfterEnd === 'reported';
  it(reportedAfterEnd
    ? 'a transport failure on a reliable transport is reported even after the transaction ended'
    : 'a transport failure on a reliable transport after the final response only ends the transaction: the TU has its answer', async () => {
    const { layer, transport, tu } = setup();
    const user = recordingClientUser();
    const d = suite.make(layer, 'tcp', tu, user);
    transport.failWith = new Error('EPIPE');
    d.sendFirst();
    d.finish();
    await flush();
    assert.ok(layer.stats().transportErrors > 0, 'the send failed');
    assert.equal(d.state(), 'Terminated');
    assert.deepEqual(d.reported(), reportedAfterEnd ? ['ERR_SIP_TRANSACTION_TRANSPORT'] : []);
    assert.equal(layer.stats().live[suite.kind], 0);
  });

  it('over TCP the transaction ends as soon as its final response passed (D, I, J, K are zero)', () => {
    const { layer, tu } = setup();
    const user = recordingClientUser();
    const d = suite.make(layer, 'tcp', tu, user);
    d.sendFirst();
    d.finish();
    assert.equal(d.state(), 'Terminated');
    assert.equal(layer.stats().live[suite.kind], 0);
    assert.equal(layer.stats().created[suite.kind], 1);
  });

  it('over UDP the transaction lingers after its final response, then ends with no timer left', () => {
    const { layer, tu, clock } = setup();
    const user = recordingClientUser();
    const d = suite.make(layer, 'udp', tu, user);
    d.sendFirst();
    d.finish();
    assert.notEqual(d.state(), 'Terminated');
    assert.equal(layer.stats().live[suite.kind], 1);
    clock.advance(64 * 500);
    assert.equal(d.state(), 'Terminated');
    assert.equal(layer.stats().live[suite.kind], 0);
    assert.equal(clock.pending, 0);
  });

  it('close() ends it silently and cancels every timer', async () => {
    const { layer, tu, clock, transport } = setup();
    const user = recordingClientUser();
    const d = suite.make(layer, 'udp', tu, user);
    d.sendFirst();
    layer.close();
    layer.close();
    assert.equal(d.state(), 'Terminated');
    assert.equal(clock.pending, 0);
    const before = transport.sent.length;
    clock.advance(100_000);
    assert.equal(transport.sent.length, before);
    await flush();
    assert.deepEqual(d.reported(), []);
    assert.deepEqual(user.events, []);
    assert.equal(layer.stats().live[suite.kind], 0);
  });
}
