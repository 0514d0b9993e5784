// The CLI (DESIGN §2.3), loaded by the program src/server.ts (dist/server.js):
//   node dist/server.js [--config mesh.yaml] [--host H] [--port P] [--check] [--new-key NAME] [--help]
// Exit codes: 0 ok (or stopped by SIGTERM/SIGINT), 1 config or runtime failure, 2 bad arguments.
import { parseArgs } from 'node:util';
import { newKeyText } from './clients/new-key.ts';
import { formatSummary, loadConfigFile } from './config/load.ts';
import type { MeshConfig } from './config/types.ts';
import { JsonLogger } from './log.ts';
import { checkSharedState } from './storage/redis/shared-state.ts';
import { checkStatePath } from './storage/local-file.ts';
import { ModelMesh } from './mesh/mesh.ts';
import { ProxyServer } from './proxy/proxy-server.ts';

export const USAGE = `Usage: modelmesh [--config FILE] [--host HOST] [--port PORT] [--check] [--new-key NAME] [--help]

  -c, --config FILE   config file (default: $MESH_CONFIG, else ./mesh.yaml)
      --host HOST     bind address, overrides proxy.host
  -p, --port PORT     listen port (0-65535; 0 = any free port), overrides proxy.port
      --check         validate the config, print a summary and exit (0 valid, 1 invalid)
      --new-key NAME  print a fresh client key and the clients: lines for mesh.yaml, and exit (no config needed)
  -h, --help          show this help

Signals: SIGTERM/SIGINT drain and stop; SIGHUP reloads the config file.`;

export interface CliOptions {
  config: string;
  host?: string;
  port?: number;
  check: boolean;
  help: boolean;
  /** --new-key NAME: print a client key and exit. */
  newKey?: string;
}

/** Parses argv (without node and script); throws an Error with a one-line message on bad arguments. */
export function parseCli(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      check: { type: 'boolean', default: false },
      'new-key': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const options: CliOptions = {
    config: values.config ?? (env['MESH_CONFIG'] || './mesh.yaml'),
    check: values.check === true,
    help: values.help === true,
  };
  if (values['new-key'] !== undefined) options.newKey = values['new-key'];
  if (values.host !== undefined) {
    if (values.host.trim() === '') throw new Error('--host must not be empty');
    options.host = values.host;
  }
  if (values.port !== undefined) {
    const port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
    if (!(port >= 0 && port <= 65535)) throw new Error(`--port must be an integer from 0 to 65535, got "${values.port}"`);
    options.port = port;
  }
  return options;
}

/** The file's config with the command-line overrides applied (again on every reload). */
function load(options: CliOptions): MeshConfig {
  const config = loadConfigFile(options.config, process.env);
  if (options.host === undefined && options.port === undefined) return config;
  return {
    ...config,
    proxy: { ...config.proxy, host: options.host ?? config.proxy.host, port: options.port ?? config.proxy.port },
  };
}

/** Longest wait for stderr to take the last log lines before exiting anyway (a reader that never drains). */
const EXIT_FLUSH_MS = 2000;

let exiting = false;

/**
 * process.exit(code) once stderr has taken every log line written so far. A pipe or socket stderr (journald,
 * a supervisor, a container runtime) is written asynchronously on Linux when its buffer is full, and
 * process.exit drops whatever is still queued: often the very lines saying why the process stopped.
 */
export function exitAfterFlush(code: number): void {
  if (exiting) return; // the first reason to exit wins (a stop finishing during a second signal's flush)
  exiting = true;
  process.exitCode = code;
  const timer = setTimeout(() => process.exit(code), EXIT_FLUSH_MS);
  process.stderr.write('', () => {
    clearTimeout(timer);
    process.exit(code);
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What the program (server.ts) hands over: whether a SIGHUP came while ModelMesh was loading. */
export interface Startup {
  /** Stops buffering SIGHUP and says whether one came; called when the reload handler is installed. */
  takeEarlyHup(): boolean;
}

export async function main(argv: readonly string[], startup: Startup = { takeEarlyHup: () => false }): Promise<void> {
  let options: CliOptions;
  try {
    options = parseCli(argv, process.env);
  } catch (err) {
    process.stderr.write(`modelmesh: ${message(err)}\n\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (options.newKey !== undefined) {
    try {
      process.stdout.write(newKeyText(options.newKey));
    } catch (err) {
      process.stderr.write(`modelmesh: ${message(err)}\n`);
      process.exitCode = 2;
    }
    return;
  }

  if (options.check) {
    try {
      const config = load(options);
      // Building the mesh resolves what the schema cannot (strategies, capability references), like nginx -t.
      await new ModelMesh(config).shutdown();
      // Like nginx -t for its upstream resolution: a wrong password or unreachable Redis is a config error here.
      if (config.storage.redis !== undefined) await checkSharedState(config.storage.redis);
      if (config.storage.path !== null) await checkStatePath(config.storage.path);
      process.stdout.write(`${formatSummary(config)}\nconfig ok\n`);
    } catch (err) {
      process.stderr.write(`${message(err)}\nconfig invalid\n`);
      process.exitCode = 1;
    }
    return;
  }

  // The logger redacts through whichever config is current (a reload may add secrets).
  let mesh: ModelMesh | undefined;
  const logger = new JsonLogger({ redact: (text) => (mesh === undefined ? text : mesh.redact(text)) });
  process.on('uncaughtException', (err) => {
    logger.error('uncaught exception', { error: { name: err.name, message: err.message } });
    exitAfterFlush(1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled rejection', { error: message(reason) });
    exitAfterFlush(1);
  });

  let config: MeshConfig;
  try {
    config = load(options);
    mesh = new ModelMesh(config, { logger });
  } catch (err) {
    logger.error('config invalid', { config: options.config, error: message(err) });
    process.exitCode = 1;
    return;
  }
  for (const warning of config.warnings) logger.warn('config warning', { warning });
  const server = new ProxyServer(mesh);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal });
      exitAfterFlush(1);
      return;
    }
    stopping = true;
    logger.info('signal received: draining', { signal });
    server.stop().then(
      () => exitAfterFlush(0),
      (err: unknown) => {
        logger.error('stop failed', { error: message(err) });
        exitAfterFlush(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  const reload = (): void => {
    // A reload while draining would build connectors the shutdown has already closed: nothing to gain.
    if (stopping) {
      logger.warn('SIGHUP ignored: the server is stopping');
      return;
    }
    try {
      const next = load(options);
      server.reload(next);
      for (const warning of next.warnings) logger.warn('config warning', { warning });
      logger.info('config reloaded', { config: next.source });
    } catch (err) {
      logger.error('config reload failed; keeping the current config', { config: options.config, error: message(err) });
      // The SIGHUP may be logrotate's: the log files are reopened whatever became of the config.
      mesh.observability.reopenFiles();
    }
  };
  process.on('SIGHUP', reload);
  const hupWhileLoading = startup.takeEarlyHup();

  try {
    await server.start();
  } catch (err) {
    logger.error('cannot start', { error: message(err) });
    exitAfterFlush(1);
    return;
  }
  if (hupWhileLoading && !stopping) {
    // The file may have changed since it was read (a `systemctl reload` right after the start).
    logger.info('SIGHUP received while starting: reloading now');
    reload();
  }
}
