// Typed readers for the schema. Every reader records a problem and falls back to the default instead of
// throwing, so one load reports every mistake at once (`<key.path>: <problem>`, one per line).

import { DURATION_HINT, SIZE_HINT, describeValue, durationMs, sizeBytes } from '../duration.ts';
import { nearest } from '../suggest.ts';
import { writtenAs } from '../yaml/written-as.ts';

export interface Problem {
  path: string;
  message: string;
}

export class Problems {
  readonly list: Problem[] = [];
  // Paths already explained by a secret problem: a missing secret leaves its value null, and the
  // `required` / wrong-type complaint that would follow at the same path is noise.
  readonly #muted = new Set<string>();

  add(path: string, message: string): void {
    if (!this.#muted.has(path)) this.list.push({ path, message });
  }

  mute(path: string): void {
    this.#muted.add(path);
  }
}

/** A reader of one value: the parsed value, or undefined after recording why it is wrong. */
export type Parser<T> = (value: unknown, path: string, problems: Problems) => T | undefined;

export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** `, did you mean "x"?` when a candidate is close, else ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const hint = nearest(word, candidates);
  return hint === undefined ? '' : `, did you mean "${hint}"?`;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * One mapping of the document at `path`. Absent or null reads as empty (YAML `proxy:` with nothing under
 * it), and so does an explicit null value of any key: it means "the default". With `keys`, any other key
 * is reported as unknown with the nearest valid key.
 */
export class Section {
  readonly problems: Problems;
  readonly path: string;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(problems: Problems, path: string, value: unknown, keys: readonly string[] | null) {
    this.problems = problems;
    this.path = path;
    if (value === undefined || value === null) {
      this.data = {};
    } else if (!isMapping(value)) {
      problems.add(path, `expected a mapping, got ${describeValue(value)}`);
      this.data = {};
    } else {
      this.data = value;
      if (keys !== null) {
        for (const key of Object.keys(value)) {
          if (keys.includes(key)) continue;
          const hint = nearest(key, keys);
          const message =
            hint === undefined ? `unknown key (expected one of: ${keys.join(', ')})` : `unknown key, did you mean "${hint}"?`;
          problems.add(joinPath(path, key), message);
        }
      }
    }
  }

  at(key: string): string {
    return joinPath(this.path, key);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.data, key) && this.data[key] !== null && this.data[key] !== undefined;
  }

  raw(key: string): unknown {
    return this.has(key) ? this.data[key] : undefined;
  }

  section(key: string, keys: readonly string[] | null): Section {
    return new Section(this.problems, this.at(key), this.raw(key), keys);
  }

  /** The parsed value of `key`, or `fallback` when it is absent or wrong. */
  read<T, D>(key: string, fallback: D, parse: Parser<T>): T | D {
    if (!this.has(key)) return fallback;
    const parsed = parse(this.data[key], this.at(key), this.problems);
    return parsed === undefined ? fallback : parsed;
  }

  /** Like read, but an absent key is a `required` problem. */
  require<T>(key: string, parse: Parser<T>): T | undefined {
    if (!this.has(key)) {
      this.problems.add(this.at(key), 'required');
      return undefined;
    }
    return parse(this.data[key], this.at(key), this.problems);
  }
}

function wrong<T>(problems: Problems, path: string, expected: string, value: unknown): T | undefined {
  problems.add(path, `expected ${expected}, got ${describeValue(value)}`);
  return undefined;
}

export const str: Parser<string> = (value, path, problems) =>
  typeof value === 'string' && value.trim() !== '' ? value : wrong(problems, path, 'a non-empty string', value);

export const bool: Parser<boolean> = (value, path, problems) =>
  typeof value === 'boolean' ? value : wrong(problems, path, 'true or false', value);

function range(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` between ${min} and ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  return max === undefined ? '' : ` <= ${max}`;
}

function inRange(value: number, min: number | undefined, max: number | undefined): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

// A value of the wrong kind gets the plain expectation (`expected an integer, got "two"`); a number out of
// range gets the range (`expected an integer >= 1, got 0`).
export function int(min?: number, max?: number): Parser<number> {
  return (value, path, problems) => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return wrong(problems, path, 'an integer', value);
    return inRange(value, min, max) ? value : wrong(problems, path, `an integer${range(min, max)}`, value);
  };
}

export function num(min?: number, max?: number): Parser<number> {
  return (value, path, problems) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) return wrong(problems, path, 'a number', value);
    return inRange(value, min, max) ? value : wrong(problems, path, `a number${range(min, max)}`, value);
  };
}

export const duration: Parser<number> = (value, path, problems) =>
  durationMs(value) ?? wrong(problems, path, DURATION_HINT, value);

export const size: Parser<number> = (value, path, problems) =>
  sizeBytes(value) ?? wrong(problems, path, SIZE_HINT, value);

export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (value, path, problems) => {
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
    const hint = typeof value === 'string' ? didYouMean(value, values) : '';
    problems.add(path, `expected one of ${values.join(', ')}, got ${describeValue(value)}${hint}`);
    return undefined;
  };
}

/** A list whose items all parse; a wrong item is reported at `path[i]` and dropped. */
export function listOf<T>(item: Parser<T>): Parser<T[]> {
  return (value, path, problems) => {
    if (!Array.isArray(value)) return wrong(problems, path, 'a list', value);
    const out: T[] = [];
    value.forEach((entry: unknown, i) => {
      const parsed = item(entry, `${path}[${i}]`, problems);
      if (parsed !== undefined) out.push(parsed);
    });
    return out;
  };
}

/** An absolute http(s) URL, trailing slashes removed so connectors can append paths. */
export const httpUrl: Parser<string> = (value, path, problems) => {
  if (typeof value === 'string' && URL.canParse(value)) {
    const protocol = new URL(value).protocol;
    if (protocol === 'http:' || protocol === 'https:') return value.replace(/\/+$/, '');
  }
  return wrong(problems, path, 'an http(s) URL', value);
};

/** Header-like mappings: string values; numbers and booleans are taken as their text (`x-version: 2`). */
export const stringMap: Parser<Record<string, string>> = (value, path, problems) => {
  if (!isMapping(value)) return wrong(problems, path, 'a mapping', value);
  const entries: [string, string][] = [];
  for (const [key, item] of Object.entries(value)) {
    // A number written `000123` or `2.10` in YAML is that text, as written (the parser kept it).
    const written = typeof item === 'number' ? writtenAs(value, key) : undefined;
    if (written !== undefined) entries.push([key, written]);
    else if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') {
      entries.push([key, String(item)]);
    } else {
      wrong(problems, joinPath(path, key), 'a string', item);
    }
  }
  return Object.fromEntries(entries);
};

/** `pools.x.models[0]: unknown model "opneai.gpt-4o", did you mean "openai.gpt-4o"?` */
export function unknownReference(kind: string, name: string, known: readonly string[]): string {
  const hint = didYouMean(name, known);
  if (hint !== '') return `unknown ${kind} "${name}"${hint}`;
  return known.length === 0
    ? `unknown ${kind} "${name}" (none are configured)`
    : `unknown ${kind} "${name}" (expected one of: ${known.join(', ')})`;
}
