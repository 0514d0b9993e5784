// `modelmesh.local-file.v1`: JSON lines, one record per line, appended to a file.
//
// The file sink appends with O_APPEND, one write per batch containing only whole lines; if the file ends
// in a partial line (a crash mid-write in an earlier life), the next write starts with a newline so no record
// is glued to the fragment. The file is reopened after a reload (SIGHUP), the usual log-rotation signal.
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { message, Sink, type QueuedRecord, type SinkDeps, type SinkOptions } from './sink.ts';

/** Lines waiting before the file sink writes without waiting for its interval. */
const FILE_THRESHOLD = 512;

export class FileSink extends Sink {
  readonly path: string;
  #handle: fsp.FileHandle | null = null;
  /** True when the file does not end with a newline (an interrupted line from before). */
  #needsNewline = false;

  constructor(deps: SinkDeps, options: Omit<SinkOptions, 'threshold'>, path: string) {
    super(deps, { ...options, threshold: FILE_THRESHOLD });
    this.path = path;
  }

  protected override async deliver(items: QueuedRecord[]): Promise<void> {
    const lines = this.lines(items);
    if (lines.length === 0) return;
    try {
      const handle = await this.#open();
      const prefix = this.#needsNewline ? '\n' : '';
      await writeAll(handle, Buffer.from(`${prefix}${lines.join('\n')}\n`, 'utf8'));
      this.#needsNewline = false;
      this.delivered += lines.length;
    } catch (err) {
      // A failed write may have left part of a line: start the next one on a fresh line.
      this.#needsNewline = true;
      await this.reopen();
      this.drop(items, `cannot write ${this.path}`, err);
    }
  }

  /** Closes the file; the next write opens it again (after rotation, a new file). */
  async reopen(): Promise<void> {
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close().catch(() => undefined);
  }

  protected override async release(): Promise<void> {
    await this.reopen();
  }

  async #open(): Promise<fsp.FileHandle> {
    if (this.#handle !== null) return this.#handle;
    await fsp.mkdir(dirname(this.path), { recursive: true });
    const handle = await fsp.open(this.path, 'a+', 0o640);
    try {
      const { size } = await handle.stat();
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) this.#needsNewline = true;
      }
    } catch (err) {
      this.warn('cannot inspect the end of the log file', { path: this.path, error: message(err) });
    }
    this.#handle = handle;
    return handle;
  }
}

/** write(2) may write less than asked; with O_APPEND every call still lands at the end. */
async function writeAll(handle: fsp.FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await handle.write(buf, offset, buf.length - offset);
    offset += bytesWritten;
  }
}
