import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { KamailioProcess } from '../kamailio.js';
import { sdp, type Ua } from '../mini-ua.js';
import { headerOf, okTo, statusOf, type TcpPhone } from './tcp-phone.js';

// A caller on UDP that calls sip:phone1@reg.test through kamailio as registrar (a `registrar` route with
// callsTo), for the tests of registrations relayed through the gateway.

/** An INVITE to the address-of-record, sent to kamailio from a UDP caller; resolves with its final answer. */
export async function callAor(caller: Ua, kam: KamailioProcess): Promise<string> {
  const callId = randomUUID();
  caller.send([
    'INVITE sip:phone1@reg.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK${callId.slice(0, 12)};rport`,
    'Max-Forwards: 70',
    `From: <sip:caller@127.0.0.1>;tag=c${callId.slice(0, 6)}`,
    'To: <sip:phone1@reg.test>',
    `Call-ID: ${callId}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:caller@127.0.0.1:${caller.port}>`,
    'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
  ].join('\r\n'), kam.port('udp'));
  return caller.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [^\\r]*\\r\\n[\\s\\S]*Call-ID: ${callId}`, 'm'));
}

/** ACK or BYE from the caller inside the dialog its INVITE's 200 set up, along kamailio's Record-Route (RFC 3261 §12.2.1.1). */
export function sendInDialog(caller: Ua, kam: KamailioProcess, ok: string, method: 'ACK' | 'BYE', cseq: number): void {
  const routes = ok.split('\r\n').filter((l) => /^record-route:/i.test(l)).flatMap((l) => l.replace(/^[^:]*:\s*/, '').split(/,\s*(?=<)/)).reverse();
  const target = /<([^>]+)>/.exec(headerOf(ok, 'Contact'))?.[1] ?? '';
  caller.send([
    `${method} ${target} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK${randomUUID().slice(0, 12)};rport`,
    'Max-Forwards: 70',
    ...routes.map((r) => `Route: ${r}`),
    `From: ${headerOf(ok, 'From')}`, `To: ${headerOf(ok, 'To')}`, `Call-ID: ${headerOf(ok, 'Call-ID')}`, `CSeq: ${cseq} ${method}`,
    'Content-Length: 0', '', '',
  ].join('\r\n'), kam.port('udp'));
}

/**
 * The phone takes the INVITE over its connection and answers 200; the caller gets it, ACKs and hangs up: the BYE
 * reaches the phone over the same connection (its Contact names a port where nothing listens).
 */
export async function callReachesPhone(caller: Ua, kam: KamailioProcess, phone: TcpPhone, contact: string): Promise<string> {
  const answered = callAor(caller, kam);
  const invite = await phone.next(/^INVITE /);
  phone.send(okTo(invite, contact, sdp));
  const final = await answered;
  assert.equal(statusOf(final), 200, final);
  sendInDialog(caller, kam, final, 'ACK', 1);
  await phone.next(/^ACK /);
  sendInDialog(caller, kam, final, 'BYE', 2);
  const bye = await phone.next(/^BYE /);
  phone.send(okTo(bye, contact));
  const byeOk = await caller.next(new RegExp(`^SIP/2\\.0 200 [^\\r]*\\r\\n[\\s\\S]*CSeq: 2 BYE`, 'm'));
  assert.equal(headerOf(byeOk, 'Call-ID'), headerOf(final, 'Call-ID'));
  return invite;
}

/** A MESSAGE to the address-of-record through kamailio; the phone answers 200 over its connection; resolves with what it got. */
export async function messageReachesPhone(caller: Ua, kam: KamailioProcess, phone: TcpPhone, text: string): Promise<string> {
  const callId = randomUUID();
  caller.send([
    'MESSAGE sip:phone1@reg.test SIP/2.0',
    `Via: SIP/2.0/UDP 127.0.0.1:${caller.port};branch=z9hG4bK${callId.slice(0, 12)};rport`,
    'Max-Forwards: 70',
    `From: <sip:caller@127.0.0.1>;tag=m${callId.slice(0, 6)}`,
    'To: <sip:phone1@reg.test>',
    `Call-ID: ${callId}`,
    'CSeq: 1 MESSAGE',
    'Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(text)}`, '', text,
  ].join('\r\n'), kam.port('udp'));
  const message = await phone.next(/^MESSAGE /);
  phone.send(okTo(message, 'sip:phone1@127.0.0.1'));
  const answer = await caller.next(new RegExp(`^SIP/2\\.0 [2-6]\\d\\d [^\\r]*\\r\\n[\\s\\S]*Call-ID: ${callId}`, 'm'));
  assert.equal(statusOf(answer), 200, answer);
  return message;
}
