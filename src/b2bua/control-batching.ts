import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';

/** Node publishes every TCP or pipe client socket this thread creates on this channel, before it connects. */
const CLIENT_SOCKET_CHANNEL = 'net.client.socket';

/**
 * Makes the app's control connection to the engine leave in one write per event-loop turn.
 *
 * drachtio-srf writes each control message with its own `socket.write`, which for a connected socket is one
 * `write(2)` on the spot and one wake-up of the engine's read; a call costs six of them on the app's side. Here
 * the first write of a turn corks the socket and the check phase of the same turn uncorks it, so every message
 * the app produced while handling that turn's reads (the ACK and the 200 after a B leg answers, the 200 to a BYE
 * and the BYE to the other leg, several calls' messages at load) goes out as one `writev`. It cut the gateway's
 * CPU per call by about an eighth at 700 calls/s (bench/gateway-process.ts, sipp at 700/s, 14,000 calls). The
 * engine's side of the connection batches the same way (src/engine/app-connection.ts).
 *
 * The socket is taken from Node's `net.client.socket` diagnostics channel, which drachtio-srf does not see:
 * every client socket this thread opens to the engine's control port (the first one and every reconnect) is
 * batched. Returns the function that stops watching for new sockets.
 */
export function batchControlWrites(enginePort: number): () => void {
  const onSocket = (message: unknown): void => {
    const socket = (message as { socket?: Socket }).socket;
    if (!socket) return;
    socket.once('connect', () => {
      if (socket.remotePort === enginePort) corkPerTurn(socket);
    });
  };
  subscribe(CLIENT_SOCKET_CHANNEL, onSocket);
  return () => {
    unsubscribe(CLIENT_SOCKET_CHANNEL, onSocket);
  };
}

/** Wraps one socket's `write` so that writes made in the same loop turn are flushed together in its check phase. */
function corkPerTurn(socket: Socket): void {
  let corked = false;
  const uncork = (): void => {
    corked = false;
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(uncork);
    }
    return (write as (...a: unknown[]) => boolean).apply(socket, args);
  } as Socket['write'];
}
