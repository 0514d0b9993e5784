// The one line a run prints when tests skip for a missing server or browser (how to install it). Each test
// file is its own process, so a marker file keyed by the runner's pid keeps it to one line per `npm test`.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Writes `line` to stderr unless another test file of this run already did for `what`. */
export function skipLineOnce(what: string, line: string): void {
  try {
    writeFileSync(join(tmpdir(), `modelmesh-${what}-skip-${process.ppid}`), '', { flag: 'wx' });
    process.stderr.write(`${line}\n`);
  } catch {
    // another test file of this run printed it already
  }
}
