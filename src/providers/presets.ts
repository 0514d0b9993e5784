// Connector presets (DESIGN §8, config-attributes.md `providers.<id>`): where each known connector lives,
// how it authenticates and which connector implementation speaks its wire format.
// A provider's `base_url` and `headers` override the preset.
import type { ModelConfig, NativeProtocol, ProviderConfig } from '../config/types.ts';
import { createTransport, type HttpTransport } from './http/client.ts';

/**
 * - `bearer`: `Authorization: Bearer <api_key>` (OpenAI and its compatibles);
 * - `x-api-key`: `x-api-key: <api_key>` (Anthropic);
 * - `none-optional`: local servers; a key, when configured, is sent as a bearer token.
 */
export type AuthScheme = 'bearer' | 'x-api-key' | 'none-optional';
export type ConnectorKind = 'openai-compatible' | 'anthropic' | 'simulated';

export interface Preset {
  /** Default base URL including the version prefix (`https://api.openai.com/v1`); empty for simulated. */
  baseUrl: string;
  auth: AuthScheme;
  /** Headers every request of this connector carries (lower-case names). */
  extraHeaders: Readonly<Record<string, string>>;
  kind: ConnectorKind;
  /** Protocols besides chat the upstream serves as is, unless `native_protocols` says otherwise. */
  native?: readonly NativeProtocol[];
}

const openai = (baseUrl: string, auth: AuthScheme = 'bearer'): Preset => ({
  baseUrl,
  auth,
  extraHeaders: {},
  kind: 'openai-compatible',
});

export const PRESETS: Readonly<Record<string, Preset>> = {
  'openai.llm.v1': { ...openai('https://api.openai.com/v1'), native: ['responses'] },
  'google.gemini.v1': openai('https://generativelanguage.googleapis.com/v1beta/openai'),
  'groq.api.v1': openai('https://api.groq.com/openai/v1'),
  'deepseek.api.v1': openai('https://api.deepseek.com/v1'),
  'mistral.api.v1': openai('https://api.mistral.ai/v1'),
  'together.api.v1': openai('https://api.together.xyz/v1'),
  'xai.grok.v1': openai('https://api.x.ai/v1'),
  'openrouter.gateway.v1': openai('https://openrouter.ai/api/v1'),
  'ollama.local.v1': openai('http://127.0.0.1:11434/v1', 'none-optional'),
  'vllm.local.v1': openai('http://127.0.0.1:8000/v1', 'none-optional'),
  'lmstudio.local.v1': openai('http://127.0.0.1:1234/v1', 'none-optional'),
  'localai.local.v1': openai('http://127.0.0.1:8080/v1', 'none-optional'),
  // https://docs.anthropic.com/en/api/versioning: every request names the API version.
  'anthropic.claude.v1': {
    baseUrl: 'https://api.anthropic.com/v1',
    auth: 'x-api-key',
    extraHeaders: { 'anthropic-version': '2023-06-01' },
    kind: 'anthropic',
    native: ['messages'],
  },
  'modelmesh.simulated.v1': { baseUrl: '', auth: 'none-optional', extraHeaders: {}, kind: 'simulated' },
};

/** True when `endpoint` is a protocol the model's upstream serves natively: model, then provider, then preset. */
export function speaksNatively(preset: Preset, provider: ProviderConfig, model: ModelConfig, endpoint: string): boolean {
  const native = model.native_protocols ?? provider.native_protocols ?? preset.native ?? [];
  return native.some((p) => p === endpoint);
}

/** The preset of a connector id, or undefined when unknown. */
export function presetFor(connector: string): Preset | undefined {
  return Object.hasOwn(PRESETS, connector) ? PRESETS[connector] : undefined;
}

/**
 * Base URL and static headers of a provider: the preset's, overridden by the config. Header names are
 * lower-cased so a configured `Authorization` replaces the preset's `authorization` instead of doubling it.
 */
export function endpointFor(config: ProviderConfig, preset: Preset): { baseUrl: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const key = config.api_key;
  if (key !== null && key !== '') {
    if (preset.auth === 'x-api-key') headers['x-api-key'] = key;
    else headers['authorization'] = `Bearer ${key}`;
  }
  for (const [name, value] of Object.entries(preset.extraHeaders)) headers[name.toLowerCase()] = value;
  for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
  const baseUrl = config.base_url !== null && config.base_url !== '' ? config.base_url : preset.baseUrl;
  return { baseUrl, headers };
}

/** The keep-alive transport of a provider: preset base URL and auth, overridden by the provider's config. */
export function transportFor(config: ProviderConfig, preset: Preset): HttpTransport {
  const { baseUrl, headers } = endpointFor(config, preset);
  return createTransport(config.http_client, { id: config.id, baseUrl, headers, timeouts: config.timeouts, maxSockets: config.max_sockets });
}
