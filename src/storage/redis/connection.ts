// One connection to Redis, ready for commands: TCP (or TLS), then the handshake AUTH / SELECT / PING, sent
// on every (re)connect because a new connection starts unauthenticated on db 0. The PING makes a server that
// wants a password we do not send fail here (NOAUTH), at connect time, instead of on the first real command.
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { RedisError, scrub } from './errors.ts';
import { RespError, RespParser, encodeCommand, type CommandArg, type RespValue } from './resp.ts';
import { describeRedisUrl, type RedisUrl } from './url.ts';

export interface ConnectOptions {
  target: RedisUrl;
  connectTimeoutMs: number;
  /** Extra TLS options for rediss:// (ca, servername, ...). */
  tls?: ConnectionOptions;
  /** CLIENT SETNAME on connect, so `CLIENT LIST` shows which process this is. */
  clientName?: string;
}

export interface ConnectionHandlers {
  reply(value: RespValue): void;
  /** Called once, when the connection ends for any reason after the handshake. */
  closed(error: Error): void;
}

export class RedisConnection {
  readonly #socket: Socket;
  readonly #parser: RespParser;
  readonly #password: string | null;
  #handlers: ConnectionHandlers | null = null;
  #closed = false;

  private constructor(socket: Socket, parser: RespParser, password: string | null) {
    this.#socket = socket;
    this.#parser = parser;
    this.#password = password;
  }

  /** Connects and runs the handshake; rejects with a RedisError (REDIS_CONNECTION or REDIS_AUTH). */
  static open(options: ConnectOptions): Promise<RedisConnection> {
    const { target } = options;
    const where = describeRedisUrl(target);
    const socket = target.tls
      ? tlsConnect({ host: target.host, port: target.port, ...(isIP(target.host) === 0 ? { servername: target.host } : {}), ...options.tls })
      : netConnect({ host: target.host, port: target.port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    return new Promise((resolve, reject) => {
      const parser = new RespParser();
      const handshake = handshakeCommands(options);
      const replies: RespValue[] = [];
      let settled = false;
      const fail = (error: RedisError): void => {
        if (settled) return;
        settled = true;
        timer.unref();
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(() => fail(new RedisError('REDIS_CONNECTION', `connecting to ${where}: no answer within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      const onData = (chunk: Buffer): void => {
        try {
          replies.push(...parser.push(chunk));
        } catch (error) {
          return fail(new RedisError('REDIS_CONNECTION', `connecting to ${where}: ${(error as Error).message}`));
        }
        for (const [i, reply] of replies.entries()) {
          if (reply instanceof RespError) return fail(handshakeError(handshake[i]?.[0], reply, where, target.password));
        }
        if (replies.length < handshake.length) return;
        settled = true;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.off('close', onClose);
        resolve(new RedisConnection(socket, parser, target.password).#attach());
      };
      const onError = (error: Error): void => fail(new RedisError('REDIS_CONNECTION', `connecting to ${where}: ${scrub(error.message, target.password)}`));
      const onClose = (): void => fail(new RedisError('REDIS_CONNECTION', `connecting to ${where}: connection closed during the handshake`));
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', onClose);
      socket.once(target.tls ? 'secureConnect' : 'connect', () => socket.write(Buffer.concat(handshake.map(encodeCommand))));
    });
  }

  /** Hands replies and the end of the connection to `handlers` (the client or the subscriber). */
  bind(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
  }

  write(bytes: Buffer): void {
    if (!this.#closed) this.#socket.write(bytes);
  }

  /** Closes at once; pending replies are lost (the handlers' `closed` is called with `reason`). */
  destroy(reason: Error): void {
    this.#finish(reason);
    this.#socket.destroy();
  }

  /** Half-closes politely (after what was written), then the server closes. */
  end(): void {
    this.#socket.end();
  }

  #attach(): this {
    this.#socket.on('data', (chunk: Buffer) => {
      let values: RespValue[];
      try {
        values = this.#parser.push(chunk);
      } catch (error) {
        return this.destroy(new RedisError('REDIS_CONNECTION', `protocol error: ${(error as Error).message}`));
      }
      for (const value of values) this.#handlers?.reply(value);
    });
    this.#socket.on('error', (error) => this.#finish(new RedisError('REDIS_CONNECTION', `connection error: ${scrub(error.message, this.#password)}`)));
    this.#socket.on('close', () => this.#finish(new RedisError('REDIS_CONNECTION', 'connection closed by the server')));
    return this;
  }

  #finish(error: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handlers?.closed(error);
  }
}

function handshakeCommands(options: ConnectOptions): CommandArg[][] {
  const { target } = options;
  const commands: CommandArg[][] = [];
  if (target.password !== null) commands.push(target.username === null ? ['AUTH', target.password] : ['AUTH', target.username, target.password]);
  if (target.db !== 0) commands.push(['SELECT', target.db]);
  if (options.clientName !== undefined) commands.push(['CLIENT', 'SETNAME', options.clientName]);
  commands.push(['PING']);
  return commands;
}

function handshakeError(command: CommandArg | undefined, reply: RespError, where: string, password: string | null): RedisError {
  const message = scrub(reply.message, password);
  if (command === 'AUTH') return new RedisError('REDIS_AUTH', `authentication to ${where} failed: ${message}`);
  if (reply.code === 'NOAUTH') return new RedisError('REDIS_AUTH', `${where} requires a password and the URL gives none: ${message}`);
  return new RedisError('REDIS_CONNECTION', `connecting to ${where}: ${String(command)} failed: ${message}`);
}
