// `modelmesh.local-file.v1` (DESIGN §6): model and provider state as one JSON file. Saving goes through
// writeFileAtomic; a file whose content cannot be parsed or understood is moved aside to
// `path.corrupt-<timestamp>` with a warning, and the mesh starts with fresh state. A path that cannot be read
// at all (a folder, no permission) is a start error that leaves the path alone: moved aside, a folder named by
// mistake (the one mesh.yaml is in, systemd's StateDirectory) would go with everything in it.
import { promises as fsp } from 'node:fs';
import type { Logger } from '../log.ts';
import type { StateSnapshot } from '../mesh/state.ts';
import { nodeFs, removeStaleTemps, writeFileAtomic, type AtomicFs } from './atomic-write.ts';
import { isRecord } from '../lib/is-record.ts';

export const STATE_FORMAT_VERSION = 1;

/** The file's content: model and provider state, plus per-client usage (absent in files of older versions). */
export type SavedState = StateSnapshot & { clients?: unknown };

export interface LoadResult {
  /** The snapshot read, or null when there was none (first start) or it was unusable. */
  snapshot: SavedState | null;
  /** Where an unusable file was moved, when it was. */
  movedTo: string | null;
}

export class LocalFileStore {
  readonly path: string;
  readonly #fs: AtomicFs;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(path: string, options: { logger: Logger; now: () => number; fs?: AtomicFs }) {
    this.path = path;
    this.#fs = options.fs ?? nodeFs;
    this.#logger = options.logger;
    this.#now = options.now;
  }

  /** Reads the state file. ENOENT is a first start; anything unusable is moved aside (never thrown). */
  async load(): Promise<LoadResult> {
    const stale = await removeStaleTemps(this.path, this.#fs);
    if (stale > 0) this.#logger.info('removed temp files of an interrupted state save', { path: this.path, count: stale });
    let text: string;
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { snapshot: null, movedTo: null };
      throw new Error(unreadable(this.path, code ?? (err instanceof Error ? err.message : String(err))));
    }
    const problem = validate(text);
    if (typeof problem === 'string') return { snapshot: null, movedTo: await this.#moveAside(problem) };
    return { snapshot: problem, movedTo: null };
  }

  /** Writes `snapshot` atomically (tmp + fsync + rename + fsync of the folder). */
  async save(snapshot: SavedState): Promise<void> {
    await writeFileAtomic(this.path, `${JSON.stringify(snapshot)}\n`, this.#fs);
  }

  async #moveAside(problem: string): Promise<string | null> {
    // A filename-safe UTC timestamp: state.json.corrupt-2026-01-01T00-00-00-000Z
    const target = `${this.path}.corrupt-${new Date(this.#now()).toISOString().replace(/[:.]/g, '-')}`;
    try {
      await this.#fs.rename(this.path, target);
      this.#logger.warn('state file unusable: moved aside, starting with fresh state', { path: this.path, moved_to: target, problem });
      return target;
    } catch (err) {
      // Could not move it (read-only folder…): still start fresh; the next save replaces it atomically.
      this.#logger.warn('state file unusable and could not be moved aside: starting with fresh state', {
        path: this.path, problem, error: err instanceof Error ? err.message : String(err),
      });
      return null;
    }
  }
}

function unreadable(path: string, code: string): string {
  if (code === 'EISDIR') return `storage.path ${path} is a folder, not a file: name a file in it (e.g. ${path.replace(/\/+$/, '')}/mesh-state.json)`;
  return `storage.path ${path} cannot be read (${code}): fix its permissions or name another file`;
}

/**
 * For `--check`: throws what load() would for `path` (a folder, an unreadable file); a missing file is fine
 * (a first start), and a file's content is not judged (it would only be moved aside).
 */
export async function checkStatePath(path: string): Promise<void> {
  try {
    const handle = await fsp.open(path, 'r');
    try {
      if ((await handle.stat()).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
    } finally {
      await handle.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new Error(unreadable(path, code ?? (err instanceof Error ? err.message : String(err))));
  }
}

/**
 * The snapshot in `text`, or a one-line description of why it is unusable. Checks the envelope and the
 * fields the router relies on; other fields are carried as they are (StateStore owns their meaning).
 */
export function validate(text: string): SavedState | string {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return `not valid JSON (${err instanceof Error ? err.message : String(err)})`;
  }
  if (!isRecord(data)) return 'not a JSON object';
  if (data['version'] !== STATE_FORMAT_VERSION) return `unsupported state version ${JSON.stringify(data['version'])} (expected ${STATE_FORMAT_VERSION})`;
  for (const section of ['models', 'providers'] as const) {
    const entries = data[section];
    if (!isRecord(entries)) return `"${section}" is not an object`;
    for (const [id, entry] of Object.entries(entries)) {
      const problem = checkEntry(entry);
      if (problem !== null) return `${section}.${id}: ${problem}`;
    }
  }
  return data as unknown as SavedState;
}

function checkEntry(entry: unknown): string | null {
  if (!isRecord(entry)) return 'not an object';
  if (entry['status'] !== 'active' && entry['status'] !== 'standby') return `bad status ${JSON.stringify(entry['status'])}`;
  const until = entry['until'];
  if (until !== null && until !== undefined && !Number.isFinite(until)) return 'bad "until"';
  return null;
}
