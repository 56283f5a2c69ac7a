import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LocalAddresses, bracketHost, defaultPort, transportOf, unbracket, withLr,
} from '../../../../src/engine/core/addressing.js';
import { NameLookups } from '../../../../src/engine/core/name-lookups.js';
import { uriOrUndefined } from '../../../../src/sip/message/index.js';
import type { Flow, ListenerInfo, TransportSender } from '../../../../src/sip/transport/types.js';

const sender = (listeners: ListenerInfo[]): TransportSender => ({
  listeners: () => listeners,
  send: () => Promise.reject(new Error('not used')),
});

const flow = (f: Partial<Flow>): Flow => ({ protocol: 'udp', localAddress: '', localPort: 0, remoteAddress: '192.0.2.9', remotePort: 5060, ...f });

test('hosts are bracketed for a hostport only when they are bare IPv6, and unbracketed back', () => {
  assert.equal(bracketHost('2001:db8::1'), '[2001:db8::1]');
  assert.equal(bracketHost('[2001:db8::1]'), '[2001:db8::1]');
  assert.equal(bracketHost('192.0.2.1'), '192.0.2.1');
  assert.equal(bracketHost('gw.example.com'), 'gw.example.com');
  assert.equal(unbracket('[::1]'), '::1');
  assert.equal(unbracket('::1'), '::1');
  assert.equal(unbracket('host]'), 'host]');
});

test('the transport a URI asks for, in any case; anything else, or none, is udp', () => {
  const t = (u: string) => transportOf(uriOrUndefined(u)!);
  assert.equal(t('sip:a@b;transport=TCP'), 'tcp');
  assert.equal(t('sip:a@b;transport=tls'), 'tls');
  assert.equal(t('sip:a@b;transport=udp'), 'udp');
  assert.equal(t('sip:a@b;transport=sctp'), 'udp');
  assert.equal(t('sips:a@b'), 'udp');
  assert.equal(t('sip:a@b;transport'), 'udp');
});

test('withLr adds lr once; default ports are 5061 for TLS and 5060 otherwise', () => {
  assert.equal(withLr('sip:p.example.com'), 'sip:p.example.com;lr');
  assert.equal(withLr('sip:p.example.com;LR'), 'sip:p.example.com;LR');
  assert.equal(withLr('sip:p.example.com;lr;transport=tcp'), 'sip:p.example.com;lr;transport=tcp');
  assert.equal(defaultPort('tls'), 5061);
  assert.equal(defaultPort('tcp'), 5060);
  assert.equal(defaultPort('udp'), 5060);
});

test('name lookups return IP literals as they are (bracketed or not) and ask the resolver for names', async () => {
  const names = new NameLookups();
  assert.equal(await names.resolve('192.0.2.7'), '192.0.2.7');
  assert.equal(await names.resolve('[2001:db8::7]'), '2001:db8::7');
  assert.match(await names.resolve('localhost'), /^(127\.\d+\.\d+\.\d+|::1)$/);
});

test('name lookups in flight are bounded: past the bound one fails at once (ERR_ENGINE_DNS_LIMIT), counted and reported; a slot freed serves again', async () => {
  const waiting: Array<(a: string) => void> = [];
  const refused: string[] = [];
  const names = new NameLookups({
    max: 2, onRefused: (host, max) => refused.push(`${host}/${max}`),
    lookup: (host) => new Promise((resolve) => waiting.push(() => resolve(`192.0.2.${host.length}`))),
  });
  const a = names.resolve('slow-a.example');
  const b = names.resolve('slow-b.example');
  await assert.rejects(names.resolve('third.example'), { code: 'ERR_ENGINE_DNS_LIMIT' });
  assert.equal(await names.resolve('192.0.2.1'), '192.0.2.1', 'an address needs no lookup, bound or not');
  assert.deepEqual(refused, ['third.example/2']);
  assert.deepEqual(names.stats(), { nameLookupsInFlight: 2, nameLookupsRefused: 1 });
  waiting.shift()!('');
  await a;
  const c = names.resolve('next.example');
  assert.equal(names.stats().nameLookupsInFlight, 2);
  for (const w of waiting.splice(0)) w('');
  assert.deepEqual(await Promise.all([b, c]), ['192.0.2.14', '192.0.2.12']);
  assert.equal(names.stats().nameLookupsInFlight, 0);
});

test('the listener a protocol leaves from prefers IPv4; a wildcard bind is advertised by name', () => {
  const v6 = { id: 'u6', protocol: 'udp', address: '::1', port: 5062 } as const;
  const v4 = { id: 'u4', protocol: 'udp', address: '127.0.0.1', port: 5060 } as const;
  const tls = { id: 't', protocol: 'tls', address: '0.0.0.0', port: 5061 } as const;
  const tcp6 = { id: 'c6', protocol: 'tcp', address: '::', port: 5070 } as const;
  const a = new LocalAddresses(sender([v6, v4, tls, tcp6]), 'gw.example.com');
  assert.equal(a.listenerFor('udp')?.id, 'u4');
  assert.equal(new LocalAddresses(sender([v6]), 'x').listenerFor('udp')?.id, 'u6');
  assert.equal(new LocalAddresses(sender([v4]), 'x').listenerFor('tls'), undefined);
  assert.equal(a.hostportFor('tls'), 'gw.example.com:5061');
  assert.equal(a.hostportFor('tcp'), 'gw.example.com:5070');
  assert.equal(a.hostportFor('udp'), '127.0.0.1:5060');
  assert.equal(new LocalAddresses(sender([v6]), 'x').hostportFor('udp'), '[::1]:5062');
  assert.equal(new LocalAddresses(sender([]), 'adv.example').hostportFor('udp'), 'adv.example');
});

test('our hostport on a flow: its own local address, the listener port for inbound streams, else the listener', () => {
  const tcp = { id: 'c', protocol: 'tcp', address: '127.0.0.1', port: 5070 } as const;
  const udp = { id: 'u', protocol: 'udp', address: '0.0.0.0', port: 5060 } as const;
  const a = new LocalAddresses(sender([tcp, udp]), 'gw.example.com');
  assert.equal(a.flowHostport(flow({ localAddress: '127.0.0.5', localPort: 5060 })), '127.0.0.5:5060');
  assert.equal(a.flowHostport(flow({ localAddress: '::1', localPort: 5060 })), '[::1]:5060');
  // An inbound connection: the local port is the listener's; an outbound one's is ephemeral and the listener's is used.
  assert.equal(a.flowHostport(flow({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 41000, connectionId: 'k', listenerId: 'c' })), '127.0.0.1:5070');
  assert.equal(a.flowHostport(flow({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 41000, connectionId: 'k', listenerId: 'gone' })), '127.0.0.1:41000');
  assert.equal(a.flowHostport(flow({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 41000, connectionId: 'k' })), '127.0.0.1:41000');
  assert.equal(a.flowHostport(flow({ protocol: 'tcp', localAddress: '127.0.0.1', localPort: 5070 })), '127.0.0.1:5070');
  // A wildcard or missing local address or port: the listener for the protocol.
  assert.equal(a.flowHostport(flow({ localAddress: '0.0.0.0', localPort: 5060 })), 'gw.example.com:5060');
  assert.equal(a.flowHostport(flow({ localAddress: '::', localPort: 5060 })), 'gw.example.com:5060');
  assert.equal(a.flowHostport(flow({ localAddress: '127.0.0.5', localPort: 0 })), 'gw.example.com:5060');
  assert.equal(a.flowHostport(flow({ protocol: 'tcp', localAddress: '', localPort: 9 })), '127.0.0.1:5070');
});

test('Contact, Record-Route and Via name the transport in use; isLocal matches bound or advertised address and port', () => {
  const l = [{ id: 't', protocol: 'tls', address: '0.0.0.0', port: 5061 }, { id: 'c', protocol: 'tcp', address: '127.0.0.1', port: 5070 },
    { id: 'u', protocol: 'udp', address: '127.0.0.1', port: 5060 }] as ListenerInfo[];
  const a = new LocalAddresses(sender(l), 'gw.example.com');
  assert.equal(a.contactFor('tls', 'h:1'), '<sips:h:1;transport=tls>');
  assert.equal(a.contactFor('tcp', 'h:1'), '<sip:h:1;transport=tcp>');
  assert.equal(a.contactFor('udp', 'h:1'), '<sip:h:1>');
  assert.equal(a.recordRouteFor('tls'), '<sips:gw.example.com:5061;transport=tls;lr>');
  assert.equal(a.recordRouteFor('tcp'), '<sip:127.0.0.1:5070;transport=tcp;lr>');
  assert.equal(a.recordRouteFor('udp'), '<sip:127.0.0.1:5060;lr>');
  assert.match(a.viaFor('tcp'), /^SIP\/2\.0\/TCP 127\.0\.0\.1:5070;rport;branch=z9hG4bK[\w-]+$/);
  assert.equal(a.isLocal('127.0.0.1', 5070), true);
  assert.equal(a.isLocal('gw.example.com', 5061), true);
  assert.equal(a.isLocal('0.0.0.0', 5061), true);
  assert.equal(a.isLocal('127.0.0.1', 5071), false);
  assert.equal(a.isLocal('127.0.0.2', 5070), false);
  assert.equal(a.isLocal('gw.example.com', 5060), false);
});

test('a name looked up is answered again from memory for 10 s, without a lookup and whatever is in flight', async () => {
  let now = 0;
  let lookups = 0;
  const names = new NameLookups({ max: 1, now: () => now, lookup: async () => `192.0.2.${++lookups}` });
  assert.equal(await names.resolve('Trunk.Example'), '192.0.2.1');
  assert.equal(await names.resolve('trunk.example'), '192.0.2.1', 'names are not case-sensitive');
  now = 9_999;
  assert.equal(await names.resolve('trunk.example'), '192.0.2.1');
  assert.equal(lookups, 1);
  now = 10_000;
  assert.equal(await names.resolve('trunk.example'), '192.0.2.2', 'looked up again once the answer is 10 s old');
});

test('asks for a name already being looked up share that lookup, take no second slot, and are answered in the order they came', async () => {
  const waiting: Array<() => void> = [];
  let lookups = 0;
  const names = new NameLookups({ max: 1, lookup: () => new Promise((resolve) => { lookups++; waiting.push(() => resolve('192.0.2.9')); }) });
  const order: string[] = [];
  const ack = names.resolve('peer.example').then(() => order.push('ACK'));
  const bye = names.resolve('PEER.example').then(() => order.push('BYE'));
  assert.equal(names.stats().nameLookupsInFlight, 1);
  waiting.shift()!();
  await Promise.all([ack, bye]);
  assert.deepEqual(order, ['ACK', 'BYE']);
  assert.equal(lookups, 1);
});
