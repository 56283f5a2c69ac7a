import { randomBytes } from 'node:crypto';

/** RFC 3261 §8.1.1.7: "The branch ID inserted by an element compliant with this specification MUST always begin with the characters "z9hG4bK"." */
export const MAGIC_COOKIE = 'z9hG4bK';

const BYTES_PER_BRANCH = 12;
const POOL_BRANCHES = 512;
let pool = Buffer.alloc(0);
let offset = 0;

/**
 * A new branch: the magic cookie and 96 random bits, drawn from a pool refilled 512 branches at a time.
 * "The branch parameter value MUST be unique across space and time for all requests sent by the UA."
 * https://www.rfc-editor.org/rfc/rfc3261#section-8.1.1.7
 */
export function newBranch(): string {
  if (offset + BYTES_PER_BRANCH > pool.length) {
    pool = randomBytes(BYTES_PER_BRANCH * POOL_BRANCHES);
    offset = 0;
  }
  const s = pool.toString('base64url', offset, offset + BYTES_PER_BRANCH);
  offset += BYTES_PER_BRANCH;
  return MAGIC_COOKIE + s;
}

const BYTES_PER_TAG = 8;
const POOL_TAGS = 512;
let tagPool = Buffer.alloc(0);
let tagOffset = 0;

/**
 * A new From or To tag: 64 random bits in lowercase hex (RFC 3261 §19.3 asks for at least 32). Hex and not
 * base64: tools that find a header by searching the message text for its name (sipp looks for the first "CSeq"
 * anywhere in a response) misread a tag that happens to spell one, such as `mZCSeqDVLD`. Hex digits spell no header
 * name in any case.
 */
export function newTag(): string {
  if (tagOffset + BYTES_PER_TAG > tagPool.length) {
    tagPool = randomBytes(BYTES_PER_TAG * POOL_TAGS);
    tagOffset = 0;
  }
  const s = tagPool.toString('hex', tagOffset, tagOffset + BYTES_PER_TAG);
  tagOffset += BYTES_PER_TAG;
  return s;
}
