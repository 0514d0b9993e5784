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
