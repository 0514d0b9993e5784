/**
 * The most output tokens a request may ask for (2^31 - 1, what upstreams parse as an int32), on every protocol:
 * far past any model's limit, and small enough that prompt-plus-output estimates and their sums in the client
 * limiter stay exact integers, never 1e308 swallowing every other reservation or turning a budget's cost
 * estimate to noise.
 */
export const MAX_OUTPUT_TOKENS = 2 ** 31 - 1;

// What a translated request needs from a model: structurally the router's `Needs` (src/mesh/eligibility.ts),
// declared here because the protocol translators do not import the mesh. One shape for every protocol.
export interface ProtocolNeeds {
  stream: boolean;
  tools: boolean;
  structured_output: boolean;
  json_mode: boolean;
  tokens: number;
  system_prompt: boolean;
  images: number;
  /** Only the protocols that can ask for log probabilities set it. */
  logprobs?: boolean;
}
