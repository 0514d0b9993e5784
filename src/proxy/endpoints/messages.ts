// POST /v1/messages and /v1/messages/count_tokens (issue 15): Anthropic clients routed through pools like chat.
// An Anthropic upstream gets the body as is (only `model` rewritten, anthropic-version/-beta passed on); every
// other upstream gets the chat translation and the answer is translated back. Errors on these routes are
// Anthropic-shaped (route-list.ts `errorShape`, respond.ts).
import { MeshError } from '../../errors.ts';
import type { Routed } from '../../mesh/router.ts';
import { invalid, isRecord } from '../../protocols/messages/common.ts';
import { countTokens } from '../../protocols/messages/count-tokens.ts';
import { needsOf, toChatRequest, type ChatTranslation } from '../../protocols/messages/request.ts';
import { fromChatCompletion } from '../../protocols/messages/response.ts';
import { ChatToMessagesStream } from '../../protocols/messages/stream.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered } from '../relay.ts';
import { sendJson } from '../respond.ts';
import { nativeMessages, translatedMessages, usageOfMessage } from './messages-stream.ts';
import { answerFailure, relayTranslated } from './protocol-relay.ts';
import { allowedTarget, routeFrom } from './route-from.ts';

/** Client headers an Anthropic upstream must see (API version, beta features). */
const PASSED_HEADERS = ['anthropic-version', 'anthropic-beta'] as const;

export async function createMessage(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const model = modelOf(body);
  let translation: ChatTranslation | null = null;
  let failed: MeshError | null = null;
  try {
    translation = toChatRequest(body);
  } catch (thrown) {
    if (!(thrown instanceof MeshError)) throw thrown;
    failed = thrown;
  }
  const stream = body['stream'] === true;
  const mode = stream ? 'sse' : 'buffer';
  const nativeHeaders: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = ctx.req.headers[name];
    if (typeof value === 'string') nativeHeaders[name] = value;
  }
  const routed = await routeFrom(ctx, body, {
    endpoint: 'messages',
    model,
    mode,
    needs: needsOf(body),
    translated: translation === null ? { error: failed as MeshError } : { body: translation.chat, mode },
    nativeHeaders,
  });
  if (routed.native || translation === null) {
    if (!stream) return relayBuffered(ctx, routed, usageOfMessage);
    return relayTranslated(ctx, routed, nativeMessages());
  }
  const stopSequences = Array.isArray(body['stop_sequences']) ? body['stop_sequences'].filter((s): s is string => typeof s === 'string') : [];
  if (stream) {
    const inputTokens = needsOf(body).tokens - (typeof body['max_tokens'] === 'number' ? body['max_tokens'] : 0);
    return relayTranslated(ctx, routed, translatedMessages(new ChatToMessagesStream({ model, stopSequences, inputTokens })));
  }
  sendTranslated(ctx, routed, model, stopSequences);
}

function sendTranslated(ctx: RequestContext, routed: Routed, model: string, stopSequences: string[]): void {
  const { response } = routed;
  let message: Record<string, unknown>;
  try {
    if (response.kind !== 'buffer') throw new MeshError('internal_error', 'expected a buffered upstream answer');
    message = fromChatCompletion(JSON.parse(response.body.toString('utf8')) as unknown, { model, stopSequences });
  } catch (thrown) {
    const failure = answerFailure(thrown);
    routed.finish({ usage: null, error: failure });
    throw failure;
  }
  const usage = isRecord(message['usage']) ? message['usage'] : {};
  const n = (k: string): number => (typeof usage[k] === 'number' ? usage[k] : 0);
  sendJson(ctx, 200, message, routed.headers);
  routed.finish({ usage: { prompt_tokens: n('input_tokens') + n('cache_read_input_tokens'), completion_tokens: n('output_tokens') }, ttfbMs: performance.now() - ctx.startedAt });
}

/** `model`: a non-empty string, with Anthropic's wording (both routes). */
function modelOf(body: Record<string, unknown>): string {
  const model = body['model'];
  if (typeof model !== 'string' || model === '') throw invalid('model', model === undefined ? 'Field required' : 'Input should be a valid string');
  return model;
}

/**
 * POST /v1/messages/count_tokens: the proxy's estimate, no upstream call. The model is checked as /v1/messages
 * checks it (route-from.ts, the router): a name the client may not use is the allow-list's 404, an unknown one
 * the router's 404; then the body (count-tokens.ts). An estimate for a model the client cannot call is no answer.
 */
export async function countMessageTokens(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const model = modelOf(body);
  const client = ctx.client;
  if (client !== null) allowedTarget(ctx, client, model);
  else if (!ctx.mesh.runtime.registry.names.has(model)) ctx.mesh.runtime.registry.resolve(model); // throws the router's 404
  sendJson(ctx, 200, countTokens(body));
}
