// `encoding_format` of embedding answers (wire §3). The official SDKs ask for base64 by default and decode it
// blindly as little-endian float32, while many OpenAI-compatible servers ignore `encoding_format` (LM Studio,
// Infinity) or reject base64 outright (older vLLM, some gateways). So the proxy asks upstream for floats
// and encodes them itself; an answer is converted only when it is not already in the format the client asked for.
import type { Usage } from '../../mesh/types.ts';
import { base64ToFloats, floatsToBase64 } from '../../lib/vectors.ts';
import { mediaUsage, skipSpace } from './usage-scan.ts';
import { isRecord } from './validate.ts';

export type EmbeddingFormat = 'float' | 'base64';

const KEY = Buffer.from('"embedding"');
const [QUOTE, COLON, BRACKET] = [0x22, 0x3a, 0x5b] as const;

/**
 * How the embeddings of a JSON answer are encoded, judged from the value of the first `"embedding"` KEY (the
 * string also occurs as the value `"object":"embedding"`): `[` floats, `"` base64. A byte search on the raw
 * answer, so the usual case (already right) costs no parse. Null: no embedding found.
 */
export function answerFormat(body: Buffer): EmbeddingFormat | null {
  for (let at = body.indexOf(KEY); at !== -1; at = body.indexOf(KEY, at + KEY.length)) {
    let i = skipSpace(body, at + KEY.length);
    if (body[i] !== COLON) continue;
    i = skipSpace(body, i + 1);
    if (body[i] === BRACKET) return 'float';
    if (body[i] === QUOTE) return 'base64';
    return null;
  }
  return null;
}

/**
 * Re-encodes every `data[i].embedding` as `want`: float arrays → base64 of little-endian float32 (exactly the
 * bytes openai-node's `toFloat32Array` and numpy `dtype="float32"` decode), base64 → floats. Everything else in
 * the answer (object, index, model, usage, unknown fields) is kept. Null when the answer is not a JSON object
 * with a `data` array (it is then relayed as received). `{ malformed }` when a vector is not one: an element
 * that is not a finite number, or base64 that is not whole float32 values (encoded or passed on, it would be a
 * 200 of NaNs and zeros, or a string the SDK cannot decode).
 */
export function convertEmbeddings(body: Buffer, want: EmbeddingFormat): { body: Buffer; usage: Usage | null } | { malformed: string } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return null;
  }
  if (!isRecord(parsed) || !Array.isArray(parsed['data'])) return null;
  for (const item of parsed['data'] as unknown[]) {
    if (!isRecord(item)) continue;
    const embedding = item['embedding'];
    if (want === 'base64' && Array.isArray(embedding)) {
      if (!embedding.every((v) => typeof v === 'number' && Number.isFinite(v))) return { malformed: 'an embedding element is not a number' };
      item['embedding'] = floatsToBase64(embedding as number[]);
    } else if (want === 'float' && typeof embedding === 'string') {
      try {
        item['embedding'] = base64ToFloats(embedding);
      } catch {
        return { malformed: 'a base64 embedding is not whole float32 values' };
      }
    }
  }
  return { body: Buffer.from(JSON.stringify(parsed), 'utf8'), usage: mediaUsage(parsed['usage']) };
}
