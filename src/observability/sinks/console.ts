// `modelmesh.console.v1`: JSON lines, one record per line.
//
// Console records go to stdout: they are the program's output (pipe them to jq or a collector), while the
// CLI's own diagnostics are JSON lines on stderr. Writes are batched per turn of the event loop, so a burst of
// requests costs one write(2), after the requests' own work.
import { message, Sink, type QueuedRecord, type SinkDeps, type SinkOptions } from './sink.ts';

/** Bytes stdout may hold unwritten before records are dropped (a reader that stopped reading a pipe). */
const MAX_PENDING_STDOUT = 8 * 1024 * 1024;

export class ConsoleSink extends Sink {
  readonly #write: (text: string) => void;
  readonly #pending: () => number;

  /** `pending`: bytes written but not yet taken by the reader (stdout.writableLength). */
  constructor(
    deps: SinkDeps,
    options: Omit<SinkOptions, 'threshold'>,
    write: (text: string) => void = (text) => void process.stdout.write(text),
    pending: () => number = () => process.stdout.writableLength,
  ) {
    super(deps, { ...options, threshold: 1 });
    this.#write = write;
    this.#pending = pending;
  }

  protected override async deliver(items: QueuedRecord[]): Promise<void> {
    const lines = this.lines(items);
    if (lines.length === 0) return;
    // Node buffers writes to a full pipe without limit: past a bound, drop and count instead of growing.
    if (this.#pending() > MAX_PENDING_STDOUT) {
      this.drop(items, 'stdout is not being read');
      return;
    }
    try {
      this.#write(`${lines.join('\n')}\n`);
      this.delivered += lines.length;
    } catch (err) {
      this.drop(items, 'stdout write failed', err);
    }
  }
}
