// Errors of the Redis client. None of them ever carries the password: messages name the command (never its
// arguments) and the redacted target, and every text that came from the socket layer is scrubbed.
import type { RespError } from './resp.ts';

export type RedisErrorCode =
  | 'REDIS_CONNECTION' // could not connect, or the connection was lost with the command in flight
  | 'REDIS_AUTH' // AUTH refused, or Redis wants a password the URL does not give
  | 'REDIS_TIMEOUT' // no reply within the command timeout
  | 'REDIS_QUEUE_FULL' // too many commands waiting or in flight
  | 'REDIS_CLOSED' // the client was closed
  | 'REDIS_REPLY'; // Redis answered with an error reply

export class RedisError extends Error {
  override readonly name: string = 'RedisError';
  readonly code: RedisErrorCode;

  constructor(code: RedisErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Redis answered the command with an error reply; `replyCode` is its first word (ERR, NOSCRIPT, WRONGTYPE...). */
export class RedisReplyError extends RedisError {
  override readonly name = 'RedisReplyError';
  readonly replyCode: string;

  constructor(command: string, reply: RespError) {
    super('REDIS_REPLY', `${command}: ${reply.message}`);
    this.replyCode = reply.code;
  }
}

/** Removes every occurrence of `secret` from `text` (a socket or TLS error could in theory quote input). */
export function scrub(text: string, secret: string | null): string {
  return secret === null || secret === '' ? text : text.split(secret).join('[REDACTED]');
}

/** The command name for messages: the first argument only (arguments may be secrets, e.g. AUTH). */
export function commandName(first: unknown): string {
  const name = Buffer.isBuffer(first) ? first.toString('latin1') : String(first);
  return name.length > 32 ? `${name.slice(0, 32)}...` : name.toUpperCase();
}
