// The `models:` section and the models listed under `providers.<id>.models` (DESIGN §3). Capabilities are
// kept as written; the mesh resolves them against the capability tree.

import { NATIVE_PROTOCOLS } from '../types.ts';
import type { ModelConfig, ModelFeatures, ProviderConfig } from '../types.ts';
import { Section, bool, int, listOf, num, oneOf, size, str, unknownReference } from './check.ts';
import type { Parser } from './check.ts';
import { describeValue } from '../duration.ts';
import type { NestedModel } from './providers.ts';

export const MODEL_KEYS = ['provider', 'name', 'capabilities', 'delivery', 'features', 'constraints', 'pricing', 'native_protocols'];
const FEATURE_KEYS = [
  'tool_calling',
  'structured_output',
  'json_mode',
  'system_prompt',
  'grounding',
  'logprobs',
  'fine_tunable',
] as const;

// `vendor.model-name`: a non-empty vendor, a dot, a non-empty rest; no whitespace.
const MODEL_ID = /^[^.\s]+\.\S+$/;
const ID_PROBLEM = 'model ids are dot-notated vendor.model-name';

/** A non-empty list of capability names; a single name is accepted as a one-item list. */
const capabilities: Parser<string[]> = (value, path, problems) => {
  if (typeof value === 'string') return str(value, path, problems) === undefined ? undefined : [value];
  const list = listOf(str)(value, path, problems);
  if (list !== undefined && Array.isArray(value) && value.length === 0) {
    problems.add(path, 'expected a non-empty list of capabilities');
    return undefined;
  }
  return list;
};

/**
 * Every model, top-level and nested, in document order (whichever of `providers` / `models` comes first
 * in the file contributes first). A duplicate id anywhere is an error naming both places.
 */
export function readModels(
  root: Section,
  providers: ReadonlyMap<string, ProviderConfig>,
  nested: readonly NestedModel[],
): Map<string, ModelConfig> {
  const models = new Map<string, ModelConfig>();
  const where = new Map<string, string>();
  const providerIds = [...providers.keys()];
  const add = (id: string, path: string, model: ModelConfig): void => {
    const first = where.get(id);
    if (first !== undefined) {
      root.problems.add(path, `duplicate model id "${id}" (also defined at ${first})`);
      return;
    }
    where.set(id, path);
    models.set(id, model);
  };

  const readTopLevel = (): void => {
    const section = root.section('models', null);
    for (const id of Object.keys(section.data)) {
      const model = section.section(id, MODEL_KEYS);
      if (!MODEL_ID.test(id)) root.problems.add(model.path, ID_PROBLEM);
      const provider = model.require('provider', str);
      if (provider !== undefined && !providers.has(provider)) {
        root.problems.add(model.at('provider'), unknownReference('provider', provider, providerIds));
      }
      add(id, model.path, readModel(model, id, provider ?? ''));
    }
  };

  const readNested = (): void => {
    for (const entry of nested) {
      const model = new Section(root.problems, entry.path, entry.value, ['id', ...MODEL_KEYS]);
      const id = model.require('id', str);
      if (id === undefined) continue;
      if (!MODEL_ID.test(id)) root.problems.add(model.at('id'), ID_PROBLEM);
      const written = model.raw('provider');
      if (written !== undefined && written !== entry.provider) {
        root.problems.add(
          model.at('provider'),
          `expected "${entry.provider}" (the provider this list belongs to) or nothing, got ${describeValue(written)}`,
        );
      }
      add(id, entry.path, readModel(model, id, entry.provider));
    }
  };

  const keys = Object.keys(root.data);
  if (keys.indexOf('models') !== -1 && keys.indexOf('models') < keys.indexOf('providers')) {
    readTopLevel();
    readNested();
  } else {
    readNested();
    readTopLevel();
  }
  return models;
}

function readModel(m: Section, id: string, provider: string): ModelConfig {
  const delivery = m.section('delivery', ['synchronous', 'streaming', 'batch']);
  const features = m.section('features', FEATURE_KEYS);
  const constraints = m.section('constraints', [
    'context_window',
    'max_output_tokens',
    'max_images',
    'max_file_size',
    'supported_languages',
  ]);
  const pricing = m.section('pricing', ['input_per_1m', 'output_per_1m']);
  const dot = id.indexOf('.');
  const feature = (key: keyof ModelFeatures): boolean | null => features.read(key, null, bool);

  return {
    id,
    provider,
    name: m.read('name', dot === -1 ? id : id.slice(dot + 1), str),
    capabilities: m.require('capabilities', capabilities) ?? [],
    delivery: {
      synchronous: delivery.read('synchronous', true, bool),
      streaming: delivery.read('streaming', true, bool),
      batch: delivery.read('batch', false, bool),
    },
    features: {
      tool_calling: feature('tool_calling'),
      structured_output: feature('structured_output'),
      json_mode: feature('json_mode'),
      system_prompt: feature('system_prompt'),
      grounding: feature('grounding'),
      logprobs: feature('logprobs'),
      fine_tunable: feature('fine_tunable'),
    },
    constraints: {
      context_window: constraints.read('context_window', null, int(1)),
      max_output_tokens: constraints.read('max_output_tokens', null, int(1)),
      max_images: constraints.read('max_images', null, int(1)),
      max_file_size: constraints.read('max_file_size', null, size),
      supported_languages: constraints.read('supported_languages', null, listOf(str)),
    },
    pricing: {
      input_per_1m: pricing.read('input_per_1m', 0, num(0)),
      output_per_1m: pricing.read('output_per_1m', 0, num(0)),
    },
    ...(m.has('native_protocols') ? { native_protocols: m.read('native_protocols', [], listOf(oneOf(NATIVE_PROTOCOLS))) } : {}),
  };
}
