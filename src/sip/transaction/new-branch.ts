import { randomBytes } from 'node:crypto';

/** RFC 3261 §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the characters "z9hG4bK"." */
export const MAGIC_COOKIE = 'z9hG4bK';

const BYTES_PER_BRANCH = 12;
const BYTES_PER_TAG = 8;
/** Random bytes drawn at a time: 512 branches' worth, one system call for many branches and tags. */
const POOL_BYTES = BYTES_PER_BRANCH * 512;
let pool = Buffer.alloc(0);
let offset = 0;

/** Where the next `n` unused random bytes start in `pool` (refilled when too few are left). */
function take(n: number): number {
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const at = offset;
  offset += n;
  return at;
}

/**
 * A new branch: the magic cookie and 96 random bits.
 * "The branch parameter value MUST be unique across space and time for all requests sent by the UA."
 * https://www.rfc-editor.org/rfc/rfc3261#section-8.1.1.7
 */
export function newBranch(): string {
  const at = take(BYTES_PER_BRANCH);
  return MAGIC_COOKIE + pool.toString('base64url', at, at + BYTES_PER_BRANCH);
}

/**
 * A new From or To tag: 64 random bits in lowercase hex (RFC 3261 §19.3 asks for at least 32). Hex and not
 * base64: tools that find a header by searching the message text for its name (sipp looks for the first "CSeq"
 * anywhere in a response) misread a tag that happens to spell one, such as `mZCSeqDVLD`. Hex digits spell no header
 * name in any case.
 */
export function newTag(): string {
  const at = take(BYTES_PER_TAG);
  return pool.toString('hex', at, at + BYTES_PER_TAG);
}
