/**
 * A copy of `bytes` in memory of its own, for bytes a transaction keeps through a wait of seconds (a final
 * response it must send again on a retransmitted request). A small Buffer is a slice of an 8 KiB block Node shares
 * among the Buffers made after it; one kept slice keeps its whole block, so each call's kept response would hold
 * the block its other messages were serialised into, for 32 s. A Buffer that is not such a slice is returned as is.
 */
export function keptBytes(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length) return bytes;
  const own = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(own);
  return own;
}
