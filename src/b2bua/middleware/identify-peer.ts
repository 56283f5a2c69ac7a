import { identifyTenant, type ReceivedOn } from '../../policy/index.js';
import { parsePeerHeader } from '../peer-header.js';
import { addressUser, refuseCall } from '../cdr.js';
import { refusalLine, type CallLocals, type Middleware, type PipelineDeps, type PipelineRequest } from '../pipeline-types.js';
import { PEER_HEADER, type SipTransport } from '../policy-types.js';
import { removeHeader } from '../request-headers.js';
import { PipelineCallLocals } from '../call-locals.js';
import { calledUser } from '../../policy/uri-user.js';
import { contactOwners, registeredTenant } from './registered-tenant.js';
import { isEngineCancel, markEngineCancel } from '../engine-cancel.js';

function transportOf(protocol: string | undefined): SipTransport | undefined {
  const p = protocol?.toLowerCase();
  return p === 'udp' || p === 'tcp' || p === 'tls' ? p : undefined;
}

/** `address:port` (an IPv6 address possibly in brackets) → its parts, or undefined. */
export function parseReceivedOn(text: string | undefined, transport: SipTransport): ReceivedOn | undefined {
  if (!text) return undefined;
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  const address = text.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { transport, address, port };
}

/**
 * Step 1: who is calling. Reads and removes X-Trunkgate-Peer, so it is never sent on. The header is believed
 * only when its transport is the one the request arrived over (the engine always states it; a copy from the
 * network that survived into a request over another transport is a forgery). Certificate identities count
 * only when the engine verified them on a TLS connection. Without a usable tenant in the header, the tenant
 * is the listener's (then SNI's, then the default tenant). No tenant, or one the policy does not know: 403.
 */
export function identifyPeer(deps: PipelineDeps): Middleware {
  const { policy, stats, clock } = deps;
  const owners = contactOwners(policy);
  return (req: PipelineRequest, res, next) => {
    // Every INVITE that reaches the policy is attempted once; each step that ends it counts its outcome.
    stats.calls.attempted++;
    const callId = req.get('Call-ID') ?? '';
    const transport = transportOf(req.protocol);
    const calling = addressUser(req.get('From'));
    const locals: CallLocals & PipelineCallLocals = new PipelineCallLocals(callId, clock.now(), deps.log);
    if (transport) locals.transportIn = transport;
    if (calling !== undefined) locals.callingNumber = calling;
    if (req.source_address !== undefined) locals.sourceAddress = req.source_address;
    if (req.source_port !== undefined) locals.sourcePort = Number(req.source_port);
    if (req.receivedOn !== undefined) locals.listener = req.receivedOn;
    if (deps.onCdr) locals.onCdr = deps.onCdr;
    if (deps.refusalCdrs) locals.refusalCdrs = deps.refusalCdrs;
    req.locals = locals;
    // The caller's CANCEL (createB2BUA answers it and cancels the B leg): the CDR says so, with its Reason. The
    // engine's own CANCEL (its final-answer time ran out, engine-cancel.ts) ends the call the same way, but not as the caller's.
    req.on?.('cancel', (cancel) => {
      const reason = cancel?.get?.('Reason');
      if (isEngineCancel(cancel, policy.engine)) markEngineCancel(locals);
      locals.cancelled = reason !== undefined && reason !== '' ? { reason } : {};
    });

    const raw = req.get(PEER_HEADER);
    removeHeader(req, PEER_HEADER);
    if (raw !== undefined) {
      // drachtio-server does not write the header: any copy came from the network.
      const peer = policy.engine === 'external' ? undefined : parsePeerHeader(raw);
      if (peer && peer.transport !== undefined && peer.transport === transport) {
        if (peer.tenant !== undefined) {
          locals.tenantIn = peer.tenant;
          locals.tenantSource = 'header';
        }
        if (peer.verified && (peer.transport === 'tls' || peer.origin === 'proxy')) locals.identities = peer.identities;
        if (peer.verified && peer.origin === 'proxy') locals.identityOrigin = 'proxy';
        if (peer.transport === 'tls') {
          if (peer.tlsVersion !== undefined) locals.tlsVersion = peer.tlsVersion;
          if (peer.cipher !== undefined) locals.tlsCipher = peer.cipher;
        }
      } else {
        stats.peerHeaderIgnored++;
        refusalLine(deps, req, 'warn', 'ERR_B2BUA_PEER_HEADER_FORGED', { source: req.source_address, protocol: req.protocol }, `b2bua: ${PEER_HEADER} ignored: not the engine's`);
      }
    }

    // A call to the contact a registration trunk keeps registered is that trunk's when it comes from the trunk's
    // registrar (or sipServer), whatever listener it arrived on; with those given by name, only when the engine
    // already named that tenant.
    if (owners.size > 0) {
      const named = locals.tenantSource === 'header' ? locals.tenantIn : undefined;
      const tenant = registeredTenant(owners, calledUser(req.uri), req.source_address, named);
      if (tenant !== undefined) {
        locals.tenantIn = tenant;
        locals.tenantSource = 'registration';
      }
    }

    if (locals.tenantIn === undefined) {
      const received = transport ? parseReceivedOn(req.receivedOn, transport) : undefined;
      const tenant = received
        ? identifyTenant(received, policy.listeners ?? [], {
          ...(policy.sniTenants ? { sniTenants: policy.sniTenants } : {}),
          ...(policy.defaultTenant !== undefined ? { defaultTenant: policy.defaultTenant } : {}),
        })
        : policy.defaultTenant;
      if (tenant !== undefined) {
        locals.tenantIn = tenant;
        locals.tenantSource = 'listener';
      }
    }

    if (locals.tenantIn === undefined || !Object.hasOwn(policy.tenants, locals.tenantIn)) {
      stats.noTenant++;
      refusalLine(deps, req, 'warn', 'ERR_B2BUA_NO_TENANT', { tenant: locals.tenantIn, receivedOn: req.receivedOn }, 'b2bua: call on no known tenant refused');
      refuseCall(clock, stats.calls, req, res, 403, 'SIP;cause=403;text="No tenant for this listener"', 'no-tenant');
      return;
    }
    locals.bindTenant(locals.tenantIn);
    next();
  };
}
