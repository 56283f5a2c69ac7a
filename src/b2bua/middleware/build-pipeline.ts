import type { Middleware } from '../pipeline-types.js';
import { admitCall } from './call-limit.js';
import { admitRate } from './call-rate.js';
import { checkMaxForwards } from './check-max-forwards.js';
import { checkPermission } from './check-permission.js';
import { classifyNumber } from './classify-number.js';
import { identifyPeer } from './identify-peer.js';
import { mapPermissions } from './map-permissions.js';
import { placeCall, type PlaceCallDeps } from './place-call.js';
import { relayedBinding } from './relayed-binding.js';
import { selectDialPeer } from './select-dial-peer.js';

/**
 * The INVITE pipeline, in order: who calls (and the identity header removed), the calling tenant's call rate (a
 * token taken, before any slot) and call limit (a slot held until the call ends), Max-Forwards, permissions,
 * the number's category, the permission check, the dial peers (or the phone of a binding relayed through the
 * gateway), then the B leg and the bridge.
 */
export function buildPipeline(deps: PlaceCallDeps): Middleware[] {
  return [
    identifyPeer(deps),
    admitRate(deps),
    admitCall(deps),
    checkMaxForwards(deps),
    mapPermissions(deps),
    classifyNumber(deps),
    checkPermission(deps),
    relayedBinding(deps, selectDialPeer(deps)),
    placeCall(deps),
  ];
}
