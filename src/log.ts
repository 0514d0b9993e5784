// Logs are JSON lines on stderr (journald-friendly, DESIGN §2.3). Every line passes through the redactor,
// so a secret value can never reach the log even if a message quotes it.

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevelName, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  level?: LogLevelName;
  /** Where lines go; default process.stderr. */
  write?: (line: string) => void;
  redact?: (text: string) => string;
}

export class JsonLogger implements Logger {
  readonly #min: number;
  readonly #write: (line: string) => void;
  redact: (text: string) => string;

  constructor(options: JsonLoggerOptions = {}) {
    this.#min = ORDER[options.level ?? 'info'];
    this.#write = options.write ?? ((line) => void process.stderr.write(line));
    this.redact = options.redact ?? ((text) => text);
  }

  #log(level: LogLevelName, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < this.#min) return;
    const record = { ts: new Date().toISOString(), level, msg, ...fields };
    let line: string;
    try {
      line = JSON.stringify(record, errorReplacer);
    } catch {
      line = JSON.stringify({ ts: record.ts, level, msg });
    }
    this.#write(this.redact(line) + '\n');
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.#log('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.#log('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.#log('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.#log('error', msg, fields);
  }
}

/** Errors serialise as name + message (+ code); stacks stay out of logs shipped off the box. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return code === undefined ? { name: value.name, message: value.message } : { name: value.name, message: value.message, code };
  }
  return value;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
