// Raw-socket HTTP for the tests that must send what no HTTP client would (smuggling attempts, bad framing,
// slow or endless uploads) and read exactly what came back, and when the socket closed.
import { connect, type Socket } from 'node:net';

export interface RawReply {
  /** Everything received, as latin1 text. */
  raw: string;
  /** Status of the first response, 0 when none arrived. */
  status: number;
  /** Lower-case header names of the first response. */
  headers: Record<string, string>;
  /** Body of the first response (by Content-Length), parsed as JSON when it is JSON. */
  body: string;
  json: unknown;
  /** ms from connect to the socket's close. */
  closedAfterMs: number;
  /** Socket error code, if the socket failed (ECONNRESET, EPIPE). */
  error: string | undefined;
}

export function parseReply(raw: string, closedAfterMs: number, error: string | undefined): RawReply {
  const end = raw.indexOf('\r\n\r\n');
  const head = end === -1 ? raw : raw.slice(0, end);
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? NaN);
  const rest = end === -1 ? '' : raw.slice(end + 4);
  const body = Number.isFinite(length) ? rest.slice(0, length) : rest;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body, 'latin1').toString('utf8'));
  } catch {
    json = undefined;
  }
  return { raw, status, headers, body, json, closedAfterMs, error };
}

/**
 * Connects, lets `drive` write (at its own pace), and resolves when the socket closes (or after `maxMs`,
 * then destroying it). Errors do not reject: they are reported in `error`.
 */
export function rawExchange(port: number, drive: (socket: Socket) => void | Promise<void>, maxMs = 10_000): Promise<RawReply> {
  return new Promise((resolve) => {
    const started = performance.now();
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(), maxMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseReply(Buffer.concat(chunks).toString('latin1'), performance.now() - started, error));
    });
    socket.once('connect', () => {
      Promise.resolve(drive(socket)).catch((err: unknown) => (error ??= String(err)));
    });
  });
}

/** Sends `data` in one write and half-closes nothing: the server decides when the socket ends. */
export function rawSend(port: number, data: string | Buffer, maxMs = 5_000): Promise<RawReply> {
  return rawExchange(port, (socket) => void socket.write(data), maxMs);
}
