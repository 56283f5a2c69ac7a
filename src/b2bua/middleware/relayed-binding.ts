import { localsOf, type Middleware, type PipelineDeps } from '../pipeline-types.js';
import { relayedFlowOf } from '../register-relay.js';

/**
 * Step, in place of the dial-peer choice: a call to a binding registered through the gateway (its flow token
 * verified, register-relay.ts) goes to the phone's tenant, to the address the phone registered from. That is a
 * peer with an open connection to the gateway, which the engine reuses (RFC 5626: requests reach the phone over
 * the flow it opened, and later requests of the dialog stay on that connection). Any other call goes on to
 * `selectDialPeer`.
 */
export function relayedBinding(deps: PipelineDeps, selectDialPeer: Middleware): Middleware {
  return (req, res, next) => {
    const flow = relayedFlowOf(req);
    if (flow === undefined || !Object.hasOwn(deps.policy.tenants, flow.tenant)) {
      selectDialPeer(req, res, next);
      return;
    }
    const host = flow.address.includes(':') ? `[${flow.address}]` : flow.address;
    localsOf(req).dialPeers = [{
      dialPeer: { id: `registered:${flow.tenant}`, destinationPattern: '', tenant: flow.tenant, sipServer: `${host}:${flow.port}` },
      prefixLength: 0,
    }];
    next();
  };
}
