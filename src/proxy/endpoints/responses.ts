// POST /v1/responses, GET and DELETE /v1/responses/{id} (issue 14), routed through pools like chat. Per attempt
// the router gives a model that speaks the Responses API natively the client's body (only `model` rewritten) and
// every other model the chat translation; the answer is translated back only when it was translated there.
// previous_response_id continues a conversation the proxy stored (ctx.mesh.responses). A stored response is the
// creating client's only (ownerOf): any other caller gets the same 404 / previous_response_not_found as for an
// unknown id, and nothing changes.
import { MeshError } from '../../errors.ts';
import type { Routed } from '../../mesh/router.ts';
import { ChatToResponsesStream, conversationOf, deletedBody, fromChatCompletion, needsOf, newId, toChatRequest } from '../../protocols/responses/index.ts';
import type { ChatTranslation, ResponseContext, ResponseObject, ResponseOwner } from '../../protocols/responses/index.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered } from '../relay.ts';
import { sendJson } from '../respond.ts';
import { answerFailure, relayTranslated } from './protocol-relay.ts';
import { nativeResponses, translatedResponses } from './responses-stream.ts';
import { routeFrom } from './route-from.ts';
import { bodyUsage } from './usage-scan.ts';
import { requireString } from './validate.ts';

export async function createResponse(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const model = requireString(body, 'model');
  const store = ctx.mesh.responses;
  const owner = ownerOf(ctx);
  const previous = typeof body['previous_response_id'] === 'string' ? body['previous_response_id'] : null;
  const history = previous === null ? null : store.history(previous, owner);
  let translation: ChatTranslation | null = null;
  let failed: MeshError | null = null;
  try {
    translation = toChatRequest(body, history);
  } catch (thrown) {
    if (!(thrown instanceof MeshError)) throw thrown;
    failed = thrown;
  }
  const stream = body['stream'] === true;
  const mode = stream ? 'sse' : 'buffer';
  const routed = await routeFrom(ctx, body, {
    endpoint: 'responses',
    model,
    mode,
    needs: needsOf(body, history),
    // A conversation only the proxy holds cannot continue upstream: then every model gets the translation.
    translated: translation === null ? { error: failed as MeshError } : { body: translation.chat, mode, ...(history !== null ? { only: true } : {}) },
  });
  if (routed.native || translation === null) {
    if (!stream) return relayBuffered(ctx, routed, bodyUsage);
    return relayTranslated(ctx, routed, nativeResponses());
  }
  const rctx: ResponseContext = { id: newId('resp'), model, createdAt: Math.floor(Date.now() / 1000), echo: translation.echo };
  const keep = (response: ResponseObject): void => {
    if (translation.echo.store) store.put(response, conversationOf(history, translation.turn, response), owner);
  };
  if (stream) return relayTranslated(ctx, routed, translatedResponses(new ChatToResponsesStream(rctx), keep));
  sendTranslated(ctx, routed, rctx, keep);
}

/** A buffered chat completion as a Response object; a malformed answer is the upstream's failure (502). */
function sendTranslated(ctx: RequestContext, routed: Routed, rctx: ResponseContext, keep: (r: ResponseObject) => void): void {
  const { response } = routed;
  let answer: ResponseObject;
  try {
    if (response.kind !== 'buffer') throw new MeshError('internal_error', 'expected a buffered upstream answer');
    answer = fromChatCompletion(JSON.parse(response.body.toString('utf8')) as unknown, rctx);
  } catch (thrown) {
    const failure = answerFailure(thrown);
    routed.finish({ usage: null, error: failure });
    throw failure;
  }
  keep(answer);
  const usage = answer.usage === null ? null : { prompt_tokens: answer.usage.input_tokens, completion_tokens: answer.usage.output_tokens };
  sendJson(ctx, 200, answer, routed.headers);
  routed.finish({ usage, ttfbMs: performance.now() - ctx.startedAt });
}

/** The store's owner for this caller: the configured client's name, null for an anonymous one. */
function ownerOf(ctx: RequestContext): ResponseOwner {
  return ctx.client?.name ?? null;
}

function notFound(id: string): MeshError {
  return new MeshError('not_found', `Response with id '${id}' not found.`, { headers: { 'x-should-retry': 'false' } });
}

/** GET /v1/responses/{id}: a response the proxy produced and still keeps. */
export async function getResponse(ctx: RequestContext): Promise<void> {
  const id = ctx.params['id'] ?? '';
  const found = ctx.mesh.responses.get(id, ownerOf(ctx));
  if (found === null) throw notFound(id);
  sendJson(ctx, 200, found);
}

/** DELETE /v1/responses/{id}. */
export async function deleteResponse(ctx: RequestContext): Promise<void> {
  const id = ctx.params['id'] ?? '';
  if (!ctx.mesh.responses.delete(id, ownerOf(ctx))) throw notFound(id);
  sendJson(ctx, 200, deletedBody(id));
}
