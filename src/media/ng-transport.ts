import rtpengine from 'rtpengine-client';
import type { Client as NgClient } from 'rtpengine-client';

/** Where one rtpengine listens for ng commands (UDP). */
export interface RtpengineAddress {
  host: string;
  port: number;
}

/** An ng reply dictionary: `result` is `ok`, `pong`, `error` (with `error-reason`) or `load limit`. */
export type NgReply = Record<string, unknown> & { result?: unknown };

export type NgCommand = 'ping' | 'offer' | 'answer' | 'delete' | 'query';

/**
 * A request that never left this host: the socket refused to send it (EMSGSIZE for a datagram over 65,507 bytes,
 * ENOBUFS, a closed socket). It says nothing about the instance it was meant for.
 */
export class NgSendFailed extends Error {
  /** The socket's error code (`EMSGSIZE`, ...), when it gave one. */
  readonly code: string | undefined;

  constructor(cause: unknown) {
    const code = (cause as { code?: unknown } | null)?.code;
    super(`ng request not sent${typeof code === 'string' ? ` (${code})` : ''}`, { cause });
    this.name = 'NgSendFailed';
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/** A socket's own refusal to send (a system error of `send`), as opposed to a request that went out unanswered. */
function sendFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { syscall?: unknown }).syscall === 'send';
}

/**
 * Sends ng commands and returns the replies; rejects on a timeout, or with NgSendFailed when the request could not
 * be sent at all.
 */
export interface NgTransport {
  send(to: RtpengineAddress, command: NgCommand, params?: Record<string, unknown>): Promise<NgReply>;
  close(): void;
}

export interface NgTransportOptions {
  /** Address the client socket binds (default 127.0.0.1; 0.0.0.0 when the instances are elsewhere). */
  localAddress?: string;
  /** How long one request waits for its reply (ms). */
  timeoutMs: number;
  /** A reply that could not be decoded or matched no pending request (a late one): counted, never logged with its content. */
  onStrayReply?: (kind: 'undecodable' | 'unmatched') => void;
}

/**
 * The ng transport over rtpengine-client's UDP client: one socket for every instance (the destination goes with
 * each request). Replies carry SDP with SDES keys, so two of the client's paths are replaced: a reply to a request
 * that already timed out, and a reply that does not decode, are dropped and reported by kind only (the library
 * would print their content to the console).
 */
export function createNgTransport(o: NgTransportOptions): NgTransport {
  const client: NgClient = new rtpengine.Client({ localAddress: o.localAddress ?? '127.0.0.1', timeout: o.timeoutMs });
  const original = client._onParsedMessage.bind(client);
  client._onParsedMessage = (obj) => {
    if (!client.messages.has(obj.id)) {
      o.onStrayReply?.('unmatched');
      return;
    }
    original(obj);
  };
  client._handleIncomingMessages = () => {
    while (client.incomingMsgs.length > 0) {
      const msg = client.incomingMsgs.shift()!;
      let obj: { id: string; data: Record<string, unknown> };
      try {
        obj = rtpengine.Client.decodeMessage(msg);
      } catch {
        o.onStrayReply?.('undecodable');
        continue;
      }
      client._onParsedMessage(obj);
    }
  };
  // Socket errors reach the pending requests through their send callbacks and timeouts; never throw from the emitter.
  client.on('error', () => undefined);
  // The socket never holds the process open: the app's own connections do while it runs.
  client.socket.unref();
  let closed = false;
  return {
    send: (to, command, params = {}) => {
      if (closed) return Promise.reject(new Error('ng transport closed'));
      return (client[command]({ host: to.host, port: to.port }, params) as Promise<NgReply>).catch((err: unknown) => {
        if (!sendFailure(err)) throw err;
        // The library forgets a request it could not send but leaves its reply timer running: stopped here.
        for (const [cookie, timer] of client.timers) {
          if (client.messages.has(cookie)) continue;
          clearTimeout(timer);
          client.timers.delete(cookie);
        }
        throw new NgSendFailed(err);
      });
    },
    close: () => {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}
