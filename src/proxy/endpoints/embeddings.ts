// POST /v1/embeddings (openai-wire §3): validate, route to a model with an embeddings capability, relay the
// JSON answer in the `encoding_format` the client asked for (see embeddings-encoding.ts for why the proxy
// asks upstream for floats and encodes base64 itself).
import { MeshError } from '../../errors.ts';
import { NO_NEEDS } from '../../mesh/eligibility.ts';
import { estimateTokens } from '../../lib/tokens.ts';
import { readJson } from '../body.ts';
import type { RequestContext } from '../context.ts';
import { relayBuffered } from '../relay.ts';
import { bodyUsage, withResponse } from './usage-scan.ts';
import { answerFormat, convertEmbeddings, type EmbeddingFormat } from './embeddings-encoding.ts';
import { optionalEnum, requireString } from './validate.ts';
import { routeFrom } from './route-from.ts';

/** Most inputs in one request (wire §3). */
const MAX_INPUTS = 2048;

export async function embeddings(ctx: RequestContext): Promise<void> {
  const body = await readJson(ctx, ctx.mesh.config.proxy.limits.max_body);
  const model = requireString(body, 'model');
  const longest = checkInput(body['input']);
  const dimensions = body['dimensions'];
  if (dimensions !== undefined && dimensions !== null && !(Number.isSafeInteger(dimensions) && (dimensions as number) >= 1)) {
    throw new MeshError('invalid_param', "Invalid value for 'dimensions': expected an integer >= 1.", { param: 'dimensions' });
  }
  const user = body['user'];
  if (user !== undefined && user !== null && typeof user !== 'string') {
    throw new MeshError('invalid_param', "Invalid type for 'user': expected a string.", { param: 'user' });
  }
  const want: EmbeddingFormat = optionalEnum(body, 'encoding_format', ['float', 'base64'] as const) ?? 'float';
  // Floats are the one encoding every OpenAI-compatible server speaks; an absent field is left absent.
  if (want === 'base64') body['encoding_format'] = 'float';

  // The answer is converted (when not already in the format asked for) inside the attempt, before the commit:
  // a malformed vector is then a failed attempt of that model and the router rotates. What a connector that
  // runs no endpoint check hands over is converted here, after the commit (its failure then ends the request).
  let checked: { body: Buffer; conversion: Conversion } | null = null;
  const check = (answer: Buffer): string | null => {
    const conversion = convert(answer, want);
    checked = { body: answer, conversion };
    return conversion !== null && 'malformed' in conversion ? `not a valid embeddings answer: ${conversion.malformed}` : null;
  };
  const routed = await routeFrom(ctx, body, {
    endpoint: 'embeddings',
    model,
    mode: 'buffer',
    // Each input must fit the model's window on its own, so the longest one is what eligibility checks.
    needs: { ...NO_NEEDS, tokens: longest },
    check,
  });
  const { response } = routed;
  if (response.kind === 'buffer') {
    const seen = checked as { body: Buffer; conversion: Conversion } | null;
    const converted = seen !== null && seen.body === response.body ? seen.conversion : convert(response.body, want);
    if (converted !== null && 'malformed' in converted) {
      // The upstream's failure (counted against the model), not a 200 of garbage.
      const failure = new MeshError('upstream_error', `The upstream answer is not a valid embeddings answer: ${converted.malformed}.`, {
        upstream: { status: 0, reason: `malformed embeddings answer: ${converted.malformed}` },
      });
      routed.finish({ usage: null, error: failure });
      throw failure;
    }
    if (converted !== null) {
      const { usage } = converted;
      return relayBuffered(ctx, withResponse(routed, { ...response, body: converted.body }), () => usage);
    }
  }
  relayBuffered(ctx, routed, bodyUsage);
}

type Conversion = ReturnType<typeof convertEmbeddings>;

/** `answer` in the format the client asked for; null when it already is (or holds no embedding to judge by). */
function convert(answer: Buffer, want: EmbeddingFormat): Conversion {
  const got = answerFormat(answer);
  return got === null || got === want ? null : convertEmbeddings(answer, want);
}

/**
 * `input` is a non-empty string, or an array (1–2048 items) of non-empty strings, of token ids, or of non-empty
 * token-id arrays (wire §3). Returns the rough token count of the longest input.
 */
function checkInput(input: unknown): number {
  if (input === undefined || input === null) throw new MeshError('missing_param', "Missing required parameter: 'input'.", { param: 'input' });
  if (typeof input === 'string') {
    if (input.length === 0) throw badInput("'input' must not be an empty string.");
    return estimateTokens(input);
  }
  if (!Array.isArray(input)) throw badInput("Invalid type for 'input': expected a string, an array of strings, or an array of token arrays.");
  if (input.length === 0) throw badInput("'input' must not be an empty array.");
  if (input.length > MAX_INPUTS) throw badInput(`'input' has ${input.length} items; at most ${MAX_INPUTS} are allowed.`);
  const first: unknown = input[0];
  if (typeof first === 'number') {
    if (!input.every(isTokenId)) throw badInput("Invalid 'input': a token array must hold only non-negative integers.");
    return input.length;
  }
  let longest = 0;
  for (let i = 0; i < input.length; i++) {
    const item: unknown = input[i];
    if (typeof first === 'string') {
      if (typeof item !== 'string') throw badInput(`Invalid type for 'input[${i}]': expected a string like the other items.`);
      if (item.length === 0) throw badInput(`'input[${i}]' must not be an empty string.`);
      longest = Math.max(longest, estimateTokens(item));
    } else {
      if (!Array.isArray(item) || item.length === 0 || !item.every(isTokenId)) {
        throw badInput(`Invalid 'input[${i}]': expected a non-empty array of token ids (non-negative integers).`);
      }
      longest = Math.max(longest, item.length);
    }
  }
  return longest;
}

function isTokenId(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function badInput(message: string): MeshError {
  return new MeshError('invalid_param', message, { param: 'input' });
}
