// Deterministic embeddings for the simulated provider (wire §3).
// The vector is a pure function of the input text so that caches, tests and similarity
// searches behave reproducibly; it carries no semantic meaning.

import { createHash } from 'node:crypto';
import { MeshError } from '../errors.ts';

/** Bytes per float32 element in OpenAI's base64 encoding. */
const F32 = 4;
/** One sha256 digest is 32 bytes = 8 uint32 words, i.e. 8 vector components per counter block. */
const WORDS_PER_BLOCK = 8;
/** 2^32 - 1, maps a uint32 onto [0, 1]. */
const U32_MAX = 0xffffffff;

/**
 * Deterministic unit-length embedding of `text` with `dimensions` floats.
 * Block i is sha256(text + '\0' + i) (counter mode); each big-endian uint32 word of it is mapped
 * to [-1, 1], the vector is L2-normalised, and every component is rounded to float32 so that the
 * base64 (float32) and JSON float encodings of the same vector agree exactly.
 */
export function embedText(text: string, dimensions: number): number[] {
  if (!Number.isSafeInteger(dimensions) || dimensions < 1) {
    throw new MeshError('invalid_param', `dimensions must be an integer >= 1, got ${String(dimensions)}.`, {
      param: 'dimensions',
    });
  }
  const raw = new Array<number>(dimensions);
  const blocks = Math.ceil(dimensions / WORDS_PER_BLOCK);
  for (let block = 0; block < blocks; block++) {
    const digest = createHash('sha256').update(`${text}\0${block}`, 'utf8').digest();
    for (let w = 0; w < WORDS_PER_BLOCK; w++) {
      const index = block * WORDS_PER_BLOCK + w;
      if (index >= dimensions) break;
      raw[index] = (digest.readUInt32BE(w * 4) / U32_MAX) * 2 - 1;
    }
  }
  // No component is ever 0 (u / (2^32-1) = 0.5 has no integer solution since 2^32-1 is odd),
  // so the norm is strictly positive and the division is safe.
  let sumSquares = 0;
  for (const v of raw) sumSquares += v * v;
  const norm = Math.sqrt(sumSquares);
  return raw.map((v) => Math.fround(v / norm));
}

/**
 * Encode floats as OpenAI's `encoding_format: "base64"`: the raw bytes of a little-endian
 * float32 array, base64-encoded. openai-node decodes it with `new Float32Array(buffer)`, which
 * uses platform (little-endian on every supported platform) order, and openai-python with
 * numpy `dtype="float32"` (little-endian), so the byte order is written explicitly here.
 */
export function floatsToBase64(values: readonly number[]): string {
  const buf = Buffer.allocUnsafe(values.length * F32);
  values.forEach((v, i) => buf.writeFloatLE(v, i * F32));
  return buf.toString('base64');
}

/** Inverse of {@link floatsToBase64}; throws when the byte length is not a multiple of 4. */
export function base64ToFloats(b64: string): number[] {
  const buf = Buffer.from(b64, 'base64');
  if (buf.length % F32 !== 0) {
    throw new MeshError('invalid_param', `base64 float32 data has ${buf.length} bytes, not a multiple of 4.`);
  }
  const out = new Array<number>(buf.length / F32);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * F32);
  return out;
}
