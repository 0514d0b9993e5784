// The error of a config that cannot be used (DESIGN §2.3): a file that is missing or unreadable, a YAML syntax
// error, schema problems, references the registry cannot resolve. It never reaches an HTTP client: the CLI
// prints it (startup, --check) and a SIGHUP reload logs it and keeps the current config. So it is not a
// MeshError and has no HTTP status; HTTP errors live in src/errors.ts.

export interface ConfigErrorOptions {
  cause?: unknown;
  /** Source position for YAML and dotenv errors (1-based). */
  location?: { line: number; column: number };
  /** Config key path of a single problem (`pools.text-generation.retry`). */
  path?: string;
}

/** One or more config problems, one `<key.path>: <problem>` (or `file:line:column: …`) per message line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** Kept for callers that tell errors apart by code, as they do MeshError's. */
  readonly code = 'config_invalid';
  readonly location: { line: number; column: number } | undefined;
  readonly path: string | undefined;

  constructor(message: string, options: ConfigErrorOptions = {}) {
    // A config error is expected: its message says everything, the stack would only be noise for the operator.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = limit;
    this.location = options.location;
    this.path = options.path;
  }
}
