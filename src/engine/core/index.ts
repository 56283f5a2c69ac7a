/** The engine's SIP core: what drachtio-server does between the network and its apps. */
export { EngineCore, type EngineCoreOptions } from './engine-core.js';
