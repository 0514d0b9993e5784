// Loading mesh.yaml from disk, and the human summary printed by `--check` (DESIGN §2.3).

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError } from './errors.ts';
import type { MeshConfig, PoolConfig, ProviderConfig } from './types.ts';
import { OPENAI_ROUTES } from './types.ts';
import { createRedactor } from './redact.ts';
import { buildConfig } from './schema/index.ts';
import { parseYaml } from './yaml/parser.ts';

/**
 * Reads, parses and validates a config file. Relative paths inside it (dotenv, storage, log files) are
 * resolved against the file's folder. Throws ConfigError for every kind of problem.
 */
export function loadConfigFile(
  path: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): MeshConfig {
  const source = resolve(path);
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? 'unknown error'})`;
    throw new ConfigError(`config file ${source} ${problem}`, { cause: err });
  }
  return buildConfig(parseYaml(text, source), { source, env, baseDir: dirname(source) });
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function providerState(p: ProviderConfig): string {
  if (p.skipped !== null) return `skipped (${p.skipped})`;
  return p.enabled ? 'enabled' : 'disabled';
}

function poolMembers(pool: PoolConfig): string {
  const parts: string[] = [];
  if (pool.capability !== null) parts.push(`capability ${pool.capability}`);
  if (pool.models.length > 0) parts.push(`models ${pool.models.join(', ')}`);
  // Neither written: the mesh uses the pool name as the capability node when it is one.
  return parts.length > 0 ? parts.join(', ') : 'capability (pool name)';
}

/**
 * The `--check` report: counts, one line per provider, model and pool, then warnings. Secret values never
 * appear: the whole text goes through the redactor built from the resolved secrets, and no api key or
 * token is printed in the first place.
 */
export function formatSummary(config: MeshConfig): string {
  const providers = [...config.providers.values()];
  const skipped = providers.filter((p) => p.skipped !== null).length;
  const disabled = providers.filter((p) => !p.enabled && p.skipped === null).length;
  const { proxy, storage } = config;
  const enabled = providers.length - skipped - disabled;
  const auth = proxy.auth.enabled ? `bearer (${plural(proxy.auth.tokens.length, 'token')})` : 'off';
  const cors = proxy.cors.enabled ? proxy.cors.origins.join(' ') : 'off';
  const metrics = proxy.metrics.enabled ? proxy.metrics.path : 'off';
  const admin = proxy.admin.tokens.length > 0 ? 'on' : 'off';
  const lines: string[] = [
    `config: ${config.source ?? '(built from an object)'}`,
    `${plural(providers.length, 'provider')} (${enabled} enabled, ${skipped} skipped, ${disabled} disabled), ` +
      `${plural(config.models.size, 'model')}, ${plural(config.pools.size, 'pool')}, ` +
      `${plural(config.warnings.length, 'warning')}`,
    `proxy: ${proxy.host}:${proxy.port}, auth ${auth}, cors ${cors}, metrics ${metrics}, admin ${admin}, ` +
      `endpoints ${proxy.endpoints.length}/${OPENAI_ROUTES.length}`,
    `storage: ${storage.sync_policy}${storage.path === null ? '' : ` ${storage.path}`}`,
  ];
  lines.push(providers.length === 0 ? 'providers: none' : 'providers:');
  for (const p of providers) {
    const baseUrl = p.base_url ?? '(connector default)';
    lines.push(`  ${p.id}: connector ${p.connector}, ${providerState(p)}, base_url ${baseUrl}`);
  }
  lines.push(config.models.size === 0 ? 'models: none' : 'models:');
  for (const m of config.models.values()) {
    lines.push(`  ${m.id}: provider ${m.provider}, name ${m.name}, capabilities ${m.capabilities.join(', ')}`);
  }
  lines.push(config.pools.size === 0 ? 'pools: none configured (predefined pools only)' : 'pools:');
  for (const pool of config.pools.values()) {
    const aliases = pool.aliases.length > 0 ? `, aliases ${pool.aliases.join(', ')}` : '';
    lines.push(`  ${pool.name}: ${poolMembers(pool)}, strategy ${pool.strategy}${aliases}`);
  }
  if (config.warnings.length > 0) {
    lines.push('warnings:');
    for (const warning of config.warnings) lines.push(`  - ${warning}`);
  }
  return createRedactor(config.secretValues)(lines.join('\n'));
}
