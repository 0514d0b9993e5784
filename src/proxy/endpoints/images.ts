// POST /v1/images/generations (openai-wire §6): JSON in, JSON out, routed to a text-to-image model. Unknown
// fields (gpt-image's output_format, background, moderation …) pass through. gpt-image's `stream: true`
// relays its `image_generation.*` events, ending with `image_generation.completed` (which carries usage).
import { MeshError } from '../../errors.ts';
import { NO_NEEDS } from '../../mesh/eligibility.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered, relaySse } from '../relay.ts';
import { bodyUsage, doneEventFilter } from './usage-scan.ts';
import { optionalEnum, requireString } from './validate.ts';
import { routeFrom } from './route-from.ts';

/** Free-form string parameters: checked for type only, since the allowed values differ per model and provider. */
const STRING_PARAMS = ['size', 'quality', 'style', 'user'] as const;

export async function imageGenerations(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  requireString(body, 'prompt');
  // The real API defaults the model; the proxy routes on it, so it must be named (a pool such as image-generation).
  const model = requireString(body, 'model');
  const n = body['n'];
  if (n !== undefined && n !== null && !(Number.isSafeInteger(n) && (n as number) >= 1 && (n as number) <= 10)) {
    throw new MeshError('invalid_param', "Invalid value for 'n': expected an integer from 1 to 10.", { param: 'n' });
  }
  for (const param of STRING_PARAMS) {
    const value = body[param];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new MeshError('invalid_param', `Invalid type for '${param}': expected a string.`, { param });
    }
  }
  optionalEnum(body, 'response_format', ['url', 'b64_json'] as const);
  const streamValue = body['stream'];
  if (streamValue !== undefined && streamValue !== null && typeof streamValue !== 'boolean') {
    throw new MeshError('invalid_param', "Invalid type for 'stream': expected a boolean.", { param: 'stream' });
  }
  const stream = streamValue === true;

  const routed = await routeFrom(ctx, body, {
    endpoint: 'images',
    model,
    mode: stream ? 'sse' : 'buffer',
    needs: { ...NO_NEEDS, stream },
  });
  if (stream) return relaySse(ctx, routed, doneEventFilter('image_generation.completed'));
  // b64_json answers run to megabytes: usage is read without parsing the images (answers.ts scanUsage).
  relayBuffered(ctx, routed, bodyUsage);
}
