// What every HTTP connector shares: identity, its provider's config, and one keep-alive transport built from
// the preset and the config (base URL, auth, headers, timeouts, socket limit). Each subclass owns its wire
// format in `call` — the quirks stay in the connector (DESIGN §8).
import type { ProviderConfig } from '../../config/types.ts';
import type { ModelConfig } from '../../config/types.ts';
import type { Endpoint, Provider, ProviderCall, ProviderResponse } from '../provider.ts';
import { speaksNatively, transportFor, type Preset } from '../presets.ts';
import type { HttpTransport } from './client.ts';

export abstract class HttpConnector implements Provider {
  readonly id: string;
  readonly config: ProviderConfig;
  readonly simulated = false;
  protected readonly transport: HttpTransport;
  readonly #preset: Preset;

  constructor(config: ProviderConfig, preset: Preset) {
    this.id = config.id;
    this.config = config;
    this.#preset = preset;
    this.transport = transportFor(config, preset);
  }

  speaks(endpoint: Endpoint, model: ModelConfig): boolean {
    return speaksNatively(this.#preset, this.config, model, endpoint);
  }

  abstract call(call: ProviderCall): Promise<ProviderResponse>;

  close(): void {
    this.transport.close();
  }
}
