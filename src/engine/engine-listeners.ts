import { GatewayError } from '../common/index.js';
import type { ListenerSpec } from '../sip/transport/index.js';
import type { EngineListenerOptions } from './engine-options.js';
import type { EngineTls } from './engine-tls.js';

/**
 * The transport's listener specs from the engine's listener options: an id for each (given, or transport-host-port),
 * and a TLS listener on a profile gets its server options and post-handshake check from the engine's TLS profiles.
 */
export function listenerSpecs(listen: readonly EngineListenerOptions[], tls: EngineTls | undefined): ListenerSpec[] {
  return listen.map((l) => {
    const id = l.id ?? `${l.transport}-${l.host}-${l.port}`;
    let server: Pick<ListenerSpec, 'tls' | 'checkInbound'> = l.tls ? { tls: l.tls } : {};
    if (l.transport === 'tls' && !l.tls && l.tlsProfile !== undefined) {
      if (!tls) throw new GatewayError('ERR_TLS_PROFILE_INVALID', `tls listener ${id}: profile ${l.tlsProfile} but no TLS profiles given`);
      server = tls.listener({
        id, tlsProfile: l.tlsProfile,
        ...(l.tenant !== undefined ? { tenant: l.tenant } : {}),
        ...(l.sniProfiles ? { sniProfiles: l.sniProfiles } : {}),
        ...(l.refuseUnknownSni ? { refuseUnknownSni: true } : {}),
      });
    }
    return {
      id, protocol: l.transport, host: l.host, port: l.port, ...server, ...(l.optional ? { optional: true } : {}),
      ...(l.tenant !== undefined ? { tenant: l.tenant } : {}),
      ...(l.tlsProfile !== undefined ? { tlsProfile: l.tlsProfile } : {}),
    };
  });
}
