// A Lua script run by EVALSHA: Redis caches scripts by their SHA-1, so only the 40-character digest travels
// on each call (RedisClient.evalScript falls back to EVAL when the cache no longer has it).
import { createHash } from 'node:crypto';

export class RedisScript {
  readonly source: string;
  readonly sha1: string;

  constructor(source: string) {
    this.source = source;
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }
}
