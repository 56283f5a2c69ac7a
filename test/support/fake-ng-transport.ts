/**
 * An in-memory ng transport for pool tests: each instance (by port) answers through a function of the request, or
 * stays silent (`'silent'`: the request times out, as rtpengine-client rejects it). Every request is recorded, in
 * order, as `port command call-id[ from-tag][ to-tag]`, so a test reads which instance saw what.
 */
import type { NgCommand, NgReply, NgTransport, RtpengineAddress } from '../../src/media/ng-transport.js';

export type FakeAnswer = NgReply | 'silent';
export type FakeInstance = (command: NgCommand, params: Record<string, unknown>) => FakeAnswer;

export const FAKE_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\n';

/** An rtpengine that answers everything: pong, an SDP for offers and answers, ok for the rest. */
export const answering: FakeInstance = (command) =>
  command === 'ping' ? { result: 'pong' } : command === 'offer' || command === 'answer' ? { result: 'ok', sdp: FAKE_SDP } : { result: 'ok' };

export function fakeNgTransport(instances: Record<number, FakeInstance>): { transport: NgTransport; sent: string[]; to: (port: number) => string[] } {
  const sent: string[] = [];
  const transport: NgTransport = {
    send: async (to: RtpengineAddress, command: NgCommand, params: Record<string, unknown> = {}) => {
      const tags = ['from-tag', 'to-tag'].filter((k) => params[k] !== undefined).map((k) => ` ${String(params[k])}`).join('');
      sent.push(`${to.port} ${command}${params['call-id'] !== undefined ? ` ${String(params['call-id'])}` : ''}${tags}`);
      const answer = (instances[to.port] ?? answering)(command, params);
      if (answer === 'silent') throw new Error(`Timeout waiting for ${command} reply`);
      return answer;
    },
    close: () => undefined,
  };
  return { transport, sent, to: (port) => sent.filter((l) => l.startsWith(`${port} `)).map((l) => l.slice(String(port).length + 1)) };
}

/** Lets the requests a pool sent without waiting (its deletes of left sessions) run to their end. */
export const settle = (): Promise<void> => new Promise((ok) => setImmediate(ok));
