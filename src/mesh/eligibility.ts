// Which pool members can serve this request (DESIGN §4.2), and why each other one cannot.
import type { Endpoint } from '../providers/provider.ts';
import { CapabilityTree } from './capabilities.ts';
import type { StateStore } from './state.ts';
import type { ModelEntry } from './types.ts';

/** Capability nodes whose leaves qualify a model for an endpoint (DESIGN §4 table). */
const CHAT_NODES: readonly string[] = [
  'generation.text-generation',
  'generation.structured-generation',
  'understanding.vision-understanding',
  'understanding.text-understanding',
  'interaction',
];
const ENDPOINT_NODES: Record<Endpoint, readonly string[]> = {
  chat: CHAT_NODES,
  embeddings: ['representation.embeddings'],
  speech: ['generation.audio-generation.text-to-speech'],
  transcriptions: ['understanding.audio-understanding.speech-to-text'],
  translations: ['understanding.audio-understanding.speech-to-text', 'transformation.translation'],
  images: ['generation.image-generation.text-to-image'],
  // Other protocols for the same generation: served by the models that serve chat (natively or translated).
  responses: CHAT_NODES,
  messages: CHAT_NODES,
  completions: ['generation.text-generation.text-completion', 'generation.text-generation.code-generation'],
  moderations: ['evaluation.content-moderation'],
  'image-edits': ['generation.image-generation.image-to-image', 'generation.image-generation.inpainting'],
};

/**
 * Leaves under a qualifying node that still do not qualify: a text-completion model is a legacy-completions
 * (prompt in, text out) model such as gpt-3.5-turbo-instruct or a base model on vLLM, which has no chat
 * endpoint; without this, stick-until-failure could stick a shared text-generation pool to it after a
 * /v1/completions request and send the next chat request there.
 */
const CHAT_EXCLUDED: readonly string[] = ['generation.text-generation.text-completion'];
// Responses and Messages are translated to chat for such a model: the same exclusion.
const ENDPOINT_EXCLUDED: Partial<Record<Endpoint, readonly string[]>> = {
  chat: CHAT_EXCLUDED,
  responses: CHAT_EXCLUDED,
  messages: CHAT_EXCLUDED,
};

/** What a request needs from a model, derived once by the endpoint adapter. */
export interface Needs {
  stream: boolean;
  tools: boolean;
  structured_output: boolean;
  json_mode: boolean;
  /** Estimated prompt tokens + requested output tokens (0: unknown, not checked). */
  tokens: number;
  /** The request has a system or developer message (features.system_prompt). */
  system_prompt?: boolean;
  /** The request asks for logprobs (features.logprobs). */
  logprobs?: boolean;
  /** Images in the request (constraints.max_images). */
  images?: number;
  /** Size of an uploaded file in bytes (constraints.max_file_size). */
  file_bytes?: number;
  /** Language the client named (constraints.supported_languages), e.g. a transcription's `language`. */
  language?: string;
}

export const NO_NEEDS: Needs = { stream: false, tools: false, structured_output: false, json_mode: false, tokens: 0 };

const NOTHING_EXCLUDED: readonly string[] = [];

/** Loops, not nested some() with closures: per pool member on every request (issue 16). */
export function servesEndpoint(model: ModelEntry, endpoint: Endpoint): boolean {
  const nodes = ENDPOINT_NODES[endpoint];
  const excluded = ENDPOINT_EXCLUDED[endpoint] ?? NOTHING_EXCLUDED;
  for (const c of model.capabilities) if (withinAny(c, nodes) && !withinAny(c, excluded)) return true;
  return false;
}

function withinAny(path: string, nodes: readonly string[]): boolean {
  for (const n of nodes) if (CapabilityTree.within(path, n)) return true;
  return false;
}

/** Request-shaped reasons a model cannot serve (null = it can). Availability is checked separately. */
export function unfitReason(model: ModelEntry, endpoint: Endpoint, needs: Needs): string | null {
  const { config } = model;
  if (model.provider.serves?.(endpoint) === false) return `its connector ${model.provider.config.connector} does not serve ${endpoint}`;
  if (!servesEndpoint(model, endpoint)) return `does not serve ${endpoint} (capabilities: ${model.capabilities.join(', ')})`;
  if (needs.stream && !config.delivery.streaming) return 'no streaming delivery';
  if (!needs.stream && !config.delivery.synchronous) return 'no synchronous delivery';
  // A feature the model does not declare is assumed present; only an explicit false excludes (DESIGN §4.2).
  if (needs.tools && config.features.tool_calling === false) return 'no tool calling';
  if (needs.structured_output && config.features.structured_output === false) return 'no structured output (json_schema)';
  if (needs.json_mode && config.features.json_mode === false) return 'no JSON mode';
  if (needs.system_prompt === true && config.features.system_prompt === false) return 'no system prompt support';
  if (needs.logprobs === true && config.features.logprobs === false) return 'no logprobs';
  return constraintReason(config.constraints, needs);
}

/** Declared constraints the request exceeds (null: none). An undeclared constraint never excludes. */
function constraintReason(c: ModelEntry['config']['constraints'], needs: Needs): string | null {
  if (needs.tokens > 0 && c.context_window !== null && needs.tokens > c.context_window) {
    return `context window ${c.context_window} tokens < about ${needs.tokens} needed`;
  }
  if (c.max_images !== null && (needs.images ?? 0) > c.max_images) return `at most ${c.max_images} images (request has ${needs.images})`;
  if (c.max_file_size !== null && (needs.file_bytes ?? 0) > c.max_file_size) {
    return `file of ${needs.file_bytes} bytes over its ${c.max_file_size}-byte limit`;
  }
  if (c.supported_languages !== null && needs.language !== undefined && !c.supported_languages.includes(needs.language)) {
    return `language "${needs.language}" not supported (${c.supported_languages.join(', ')})`;
  }
  return null;
}

export interface Eligibility {
  eligible: ModelEntry[];
  /** `model: reason` for every member left out. */
  excluded: string[];
  /** Members left out only because they are in standby. */
  standby: number;
}

/**
 * `extra`: a request-specific reason on top of unfitReason (e.g. a Responses request whose chat translation
 * failed leaves out every model that does not speak the protocol natively).
 */
export function eligibleMembers(
  members: readonly ModelEntry[], endpoint: Endpoint, needs: Needs, state: StateStore, extra?: (model: ModelEntry) => string | null,
): Eligibility {
  const eligible: ModelEntry[] = [];
  const excluded: string[] = [];
  let standby = 0;
  for (const model of members) {
    const unfit = unfitReason(model, endpoint, needs) ?? extra?.(model) ?? null;
    if (unfit !== null) {
      excluded.push(`${model.id}: ${unfit}`);
    } else if (!state.isModelActive(model.id, model.config.provider)) {
      standby++;
      excluded.push(`${model.id}: ${standbyReason(model, state)}`);
    } else {
      eligible.push(model);
    }
  }
  return { eligible, excluded, standby };
}

function standbyReason(model: ModelEntry, state: StateStore): string {
  const p = state.provider(model.config.provider);
  const s = p.status === 'standby' ? p : state.model(model.id);
  const who = p.status === 'standby' ? `provider ${model.config.provider} in standby` : 'in standby';
  const until = s.until === null ? '' : ` until ${new Date(s.until).toISOString()}`;
  return `${who} (${s.reason ?? 'unknown'})${until}`;
}
