// Object ids as OpenAI shapes them (`resp_…`, `msg_…`, `fc_…`, `call_…`): a prefix and random hex. Random bytes
// come from one pooled crypto.randomBytes call per 256 ids, so an id costs a slice and a hex encode.
import { randomBytes } from 'node:crypto';

const ID_BYTES = 24;
const POOL_BYTES = ID_BYTES * 256;
let pool = randomBytes(POOL_BYTES);
let offset = 0;

function randomHex(): string {
  if (offset + ID_BYTES > POOL_BYTES) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return hex;
}

export type IdPrefix = 'resp' | 'msg' | 'fc' | 'call';

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomHex()}`;
}
