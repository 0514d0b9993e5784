// Wire shapes of the OpenAI Responses API as ModelMesh produces them for chat-only upstreams, and of the chat
// messages it translates them to. Ground truth: openai-node `src/resources/responses/responses.ts` (Response,
// ResponseOutputMessage, ResponseFunctionToolCall, ResponseUsage, ResponseStreamEvent), v7.5.0.

/** A chat-completions message (openai-wire §2), as the translation builds and the store keeps them. */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string | ChatContentPart[] }
  | { role: 'assistant'; content: string | null; tool_calls?: ChatToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export type ChatContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'low' | 'high' | 'auto' } };

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A function tool in the Responses (flat) shape, as echoed in the Response object. */
export interface FunctionTool {
  type: 'function';
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { type: 'function'; name: string };

export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict: boolean | null; description?: string };

/** Request fields the Response object repeats back (OpenAI echoes them, defaults filled in). */
export interface ResponseEcho {
  instructions: string | null;
  max_output_tokens: number | null;
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  store: boolean;
  temperature: number | null;
  text: { format: TextFormat };
  tool_choice: ToolChoice;
  tools: FunctionTool[];
  top_p: number | null;
  user: string | null;
  metadata: Record<string, string>;
}

export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: never[];
}

export interface OutputRefusal {
  type: 'refusal';
  refusal: string;
}

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export interface OutputMessage {
  id: string;
  type: 'message';
  status: ItemStatus;
  role: 'assistant';
  content: (OutputText | OutputRefusal)[];
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  status: ItemStatus;
  call_id: string;
  name: string;
  arguments: string;
}

export type OutputItem = OutputMessage | FunctionCallItem;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type ResponseStatus = 'in_progress' | 'completed' | 'incomplete' | 'failed';

/** The Response object (`object: "response"`), without `output_text`: the SDKs compute that themselves. */
export interface ResponseObject extends ResponseEcho {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: false;
  completed_at: number | null;
  error: { code: string; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  model: string;
  output: OutputItem[];
  reasoning: { effort: null; summary: null };
  truncation: 'disabled';
  usage: ResponseUsage | null;
}

/** What every Response built by this module needs besides the upstream answer. */
export interface ResponseContext {
  /** `resp_…` (ids.ts). */
  id: string;
  /** The model name the client asked for (not the upstream's), as OpenAI echoes the request's. */
  model: string;
  /** Epoch seconds. */
  createdAt: number;
  echo: ResponseEcho;
  /** Epoch milliseconds for `completed_at`; defaults to Date.now. */
  now?: () => number;
}

interface Seq {
  sequence_number: number;
}

/** The subset of openai-node's ResponseStreamEvent this translation emits. */
export type ResponsesEvent = Seq &
  (
    | { type: 'response.created' | 'response.in_progress' | 'response.completed' | 'response.incomplete' | 'response.failed'; response: ResponseObject }
    | { type: 'response.output_item.added' | 'response.output_item.done'; output_index: number; item: OutputItem }
    | { type: 'response.content_part.added' | 'response.content_part.done'; item_id: string; output_index: number; content_index: number; part: OutputText | OutputRefusal }
    | { type: 'response.output_text.delta'; item_id: string; output_index: number; content_index: number; delta: string; logprobs: never[] }
    | { type: 'response.output_text.done'; item_id: string; output_index: number; content_index: number; text: string; logprobs: never[] }
    | { type: 'response.refusal.delta'; item_id: string; output_index: number; content_index: number; delta: string }
    | { type: 'response.refusal.done'; item_id: string; output_index: number; content_index: number; refusal: string }
    | { type: 'response.function_call_arguments.delta'; item_id: string; output_index: number; delta: string }
    | { type: 'response.function_call_arguments.done'; item_id: string; output_index: number; name: string; arguments: string }
  );
