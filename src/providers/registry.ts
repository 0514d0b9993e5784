// Connector id → Provider (DESIGN §8). The only place that maps a connector to its implementation, so
// generic code never branches on a provider name.
import type { ProviderConfig } from '../config/types.ts';
import { nearest } from '../config/suggest.ts';
import { ConfigError } from '../config/errors.ts';
import { AnthropicProvider } from './anthropic/index.ts';
import { OpenAiCompatibleProvider } from './openai-compatible.ts';
import { PRESETS, presetFor } from './presets.ts';
import type { Provider } from './provider.ts';
import { SimulatedProvider } from './simulated/index.ts';

/** Every connector id `createProvider` accepts, in table order. */
export function knownConnectors(): string[] {
  return Object.keys(PRESETS);
}

/**
 * The provider for one configured entry. An unknown connector is a config error naming the key path
 * and the nearest known id (`providers.oai.connector: unknown connector "openai.llm.v2", did you mean "openai.llm.v1"?`).
 */
export function createProvider(config: ProviderConfig): Provider {
  const preset = presetFor(config.connector);
  if (preset === undefined) {
    const path = `providers.${config.id}.connector`;
    const guess = nearest(config.connector, knownConnectors());
    const hint = guess === undefined ? `; known connectors: ${knownConnectors().join(', ')}` : `, did you mean "${guess}"?`;
    throw new ConfigError(`${path}: unknown connector "${config.connector}"${hint}`, { path });
  }
  switch (preset.kind) {
    case 'anthropic':
      return new AnthropicProvider(config, preset);
    case 'simulated':
      return new SimulatedProvider(config);
    default:
      return new OpenAiCompatibleProvider(config, preset);
  }
}
