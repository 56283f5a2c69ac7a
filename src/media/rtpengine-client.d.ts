// The part of rtpengine-client (CommonJS, no types of its own) that src/media/ng-transport.ts uses.
declare module 'rtpengine-client' {
  import type { EventEmitter } from 'node:events';

  export interface NgDestination {
    host: string;
    port: number;
  }

  export interface ClientOptions {
    localPort?: number;
    localAddress?: string;
    /** Milliseconds to wait for each reply; 0: forever. */
    timeout?: number;
  }

  export class Client extends EventEmitter {
    constructor(options: ClientOptions);
    /** Splits `<cookie> <bencode>` and decodes the dictionary; throws on anything else. */
    static decodeMessage(msg: Buffer): { id: string; data: Record<string, unknown> };
    ping(dest: NgDestination): Promise<Record<string, unknown>>;
    offer(dest: NgDestination, params: Record<string, unknown>): Promise<Record<string, unknown>>;
    answer(dest: NgDestination, params: Record<string, unknown>): Promise<Record<string, unknown>>;
    delete(dest: NgDestination, params: Record<string, unknown>): Promise<Record<string, unknown>>;
    query(dest: NgDestination, params: Record<string, unknown>): Promise<Record<string, unknown>>;
    close(): void;
    /** The UDP socket (internal). */
    socket: { unref(): void };
    /** Pending requests by cookie (internal). */
    messages: Map<string, unknown>;
    /** Reply timeouts by cookie (internal); a request that failed to send keeps its own until it fires. */
    timers: Map<string, ReturnType<typeof setTimeout>>;
    incomingMsgs: Buffer[];
    _onParsedMessage(obj: { id: string; data: Record<string, unknown> }): void;
    _handleIncomingMessages(): void;
  }

  const rtpengine: { Client: typeof Client };
  export default rtpengine;
}
