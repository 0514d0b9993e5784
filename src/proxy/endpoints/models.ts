// GET /v1/models and GET /v1/models/{id} (openai-wire §7): OpenAI `Model` objects plus the `modelmesh`
// extension (pool members and their state). The SDK's models.list() reads `data`; retrieve() the bare object.
import { MeshError } from '../../errors.ts';
import type { RequestContext } from '../context.ts';
import { sendJson } from '../respond.ts';

export async function listModels(ctx: RequestContext): Promise<void> {
  sendJson(ctx, 200, { object: 'list', data: ctx.mesh.listModels() });
}

/** `id` arrives percent-decoded: the Node SDK sends `openai.gpt%2F4o` for `openai.gpt/4o`. */
export async function getModel(ctx: RequestContext): Promise<void> {
  const id = ctx.params['id'] ?? '';
  const card = ctx.mesh.findModel(id);
  if (card === undefined) {
    throw new MeshError('model_not_found', `The model \`${id}\` does not exist or you do not have access to it.`, {
      headers: { 'x-should-retry': 'false' },
    });
  }
  sendJson(ctx, 200, card);
}
