/** Free loopback ports for test peers, picked where no outgoing socket will take them first (port-picker.mjs). */
export { freeMediaPort, freePort, freeUdpBlock, tcpFree, udpFree } from './port-picker.mjs';
