// POST /v1/moderations: JSON in, `{id, model, results: [{flagged, categories, category_scores}]}` out, routed
// to models with the content-moderation capability; the body passes through with only `model` rewritten.
import { MeshError } from '../../errors.ts';
import { NO_NEEDS } from '../../mesh/eligibility.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered } from '../relay.ts';
import { bodyUsage } from './usage-scan.ts';
import { isRecord } from './validate.ts';
import { routeFrom } from './route-from.ts';

/**
 * The real API defaults `model` (the SDKs send none unless asked); the proxy routes on it, so a request
 * without one is routed as this name, which the default mesh.yaml makes an alias of the moderation pool.
 */
export const DEFAULT_MODERATION_MODEL = 'omni-moderation-latest';

export async function moderations(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const named = body['model'];
  if (named !== undefined && named !== null && (typeof named !== 'string' || named === '')) {
    throw new MeshError('invalid_param', "Invalid type for 'model': expected a non-empty string.", { param: 'model' });
  }
  const model = typeof named === 'string' ? named : DEFAULT_MODERATION_MODEL;
  const images = checkInput(body['input']);
  const routed = await routeFrom(ctx, body, { endpoint: 'moderations', model, mode: 'buffer', needs: { ...NO_NEEDS, images } });
  relayBuffered(ctx, routed, bodyUsage);
}

/**
 * `input`: a string, a non-empty list of strings, or a non-empty list of multimodal parts (`{type:"text",
 * text}`, `{type:"image_url", image_url:{url}}`). Returns the number of images (constraints.max_images).
 */
function checkInput(input: unknown): number {
  if (input === undefined || input === null) throw new MeshError('missing_param', "Missing required parameter: 'input'.", { param: 'input' });
  if (typeof input === 'string') return 0;
  if (!Array.isArray(input) || input.length === 0) {
    throw new MeshError('invalid_param', "Invalid value for 'input': expected a string, or a non-empty array of strings or of content parts.", { param: 'input' });
  }
  if (input.every((item) => typeof item === 'string')) return 0;
  let images = 0;
  input.forEach((part: unknown, i) => {
    const where = `input[${i}]`;
    if (isRecord(part) && part['type'] === 'text' && typeof part['text'] === 'string') return;
    if (isRecord(part) && part['type'] === 'image_url') {
      const ref = part['image_url'];
      if (isRecord(ref) && typeof ref['url'] === 'string' && ref['url'] !== '') {
        images++;
        return;
      }
      throw new MeshError('invalid_param', `Invalid value at '${where}': an image_url part needs 'image_url.url'.`, { param: where });
    }
    throw new MeshError(
      'invalid_param',
      `Invalid value at '${where}': expected a {"type":"text","text":...} or {"type":"image_url","image_url":{"url":...}} part ` +
        '(strings and parts cannot be mixed).',
      { param: where },
    );
  });
  return images;
}
