// GET /v1/models and GET /v1/models/{id} (openai-wire §7): OpenAI `Model` objects plus the `modelmesh`
// extension (pool members and their state). The SDK's models.list() reads `data`; retrieve() the bare object.
// A configured client with an allow-list sees only what it may use (issue 12 §3); anything else is a 404
// worded like one for a name that does not exist.
import type { ModelCard } from '../../mesh/listing.ts';
import { MeshError } from '../../errors.ts';
import { clipEcho } from '../../lib/clip.ts';
import type { RequestContext } from '../context.ts';
import { sendJson } from '../respond.ts';

/** True when the caller may use `card` (anonymous callers and clients without `pools:` may use everything). */
function visible(ctx: RequestContext, card: ModelCard): boolean {
  const client = ctx.client;
  if (client === null || client.config.pools === null) return true;
  const resolved = card.modelmesh.kind === 'model' ? card.id : (card.modelmesh.pool ?? card.id);
  return ctx.mesh.clients.allows(client, card.id, resolved);
}

export async function listModels(ctx: RequestContext): Promise<void> {
  const data = ctx.mesh.listModels().filter((card) => visible(ctx, card));
  // Model ids are not listed for everyone (pools are what clients pick from), but a client allowed only
  // some models by id should see them.
  for (const name of ctx.client?.config.pools ?? []) {
    const card = ctx.mesh.findModel(name);
    if (card?.modelmesh.kind === 'model' && !data.some((c) => c.id === card.id)) data.push(card);
  }
  sendJson(ctx, 200, { object: 'list', data });
}

/** `id` arrives percent-decoded: the Node SDK sends `openai.gpt%2F4o` for `openai.gpt/4o`. */
export async function getModel(ctx: RequestContext): Promise<void> {
  const id = ctx.params['id'] ?? '';
  const card = ctx.mesh.findModel(id);
  if (card === undefined || !visible(ctx, card)) {
    throw new MeshError('model_not_found', `The model \`${clipEcho(id)}\` does not exist or you do not have access to it.`, {
      headers: { 'x-should-retry': 'false' },
    });
  }
  sendJson(ctx, 200, card);
}
