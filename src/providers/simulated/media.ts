// Deterministic audio and image payloads for the simulated provider (wire §4 speech, §6 images).
// Each output is a real, decodable file derived only from its seed text, so players, image
// viewers and SDK tests accept it and different prompts visibly/audibly differ.

import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { MeshError } from '../../errors.ts';

/** OpenAI's raw `pcm` speech format is 24 kHz, 16-bit signed little-endian mono (wire §4). */
const DEFAULT_SAMPLE_RATE = 24_000;
const BYTES_PER_SAMPLE = 2;
const CHANNELS = 1;
/** Canonical 44-byte PCM WAVE header: RIFF header (12) + fmt chunk (8 + 16) + data chunk header (8). */
const WAV_HEADER_BYTES = 44;
/** Peak amplitude as a fraction of full scale: audible without clipping. */
const AMPLITUDE = 0.3;
/** Linear fade at both ends so playback starts and stops without a click. */
const FADE_MS = 5;
/** Largest image side we render; covers every OpenAI size (up to 1792) with room to spare. */
const MAX_IMAGE_SIDE = 4096;

/** 32 bytes of deterministic material for a seed, namespaced by purpose so audio and image differ. */
function seedBytes(purpose: string, seedText: string): Buffer {
  return createHash('sha256').update(`${purpose}\0${seedText}`, 'utf8').digest();
}

function checkSampleRate(sampleRate: number): void {
  if (!Number.isSafeInteger(sampleRate) || sampleRate < 1 || sampleRate > 384_000) {
    throw new MeshError('invalid_param', `sample rate must be an integer in [1, 384000], got ${String(sampleRate)}.`);
  }
}

function sampleCount(durationMs: number, sampleRate: number): number {
  if (!Number.isFinite(durationMs) || durationMs < 0) {
    throw new MeshError('invalid_param', `duration must be a non-negative number of ms, got ${String(durationMs)}.`);
  }
  const samples = Math.round((sampleRate * durationMs) / 1000);
  // RIFF sizes are uint32 (RIFF size field = 36 + data bytes), so the whole file must stay < 4 GiB.
  if (samples * BYTES_PER_SAMPLE + WAV_HEADER_BYTES - 8 > 0xffffffff) {
    throw new MeshError('invalid_param', `duration ${durationMs} ms is too long for a WAV file.`);
  }
  return samples;
}

/**
 * Raw PCM for `response_format: "pcm"`: 16-bit signed little-endian mono samples of a sine tone.
 * The frequency (220–880 Hz, fractional) comes from sha256 of the seed text.
 */
export function pcm(seedText: string, durationMs: number, sampleRate: number = DEFAULT_SAMPLE_RATE): Buffer {
  checkSampleRate(sampleRate);
  const n = sampleCount(durationMs, sampleRate);
  const frequency = 220 + (seedBytes('audio', seedText).readUInt32BE(0) / 0x100000000) * 660;
  const fade = Math.max(1, Math.round((sampleRate * FADE_MS) / 1000));
  const out = Buffer.alloc(n * BYTES_PER_SAMPLE);
  const step = (2 * Math.PI * frequency) / sampleRate;
  for (let i = 0; i < n; i++) {
    const envelope = Math.min(1, i / fade, (n - 1 - i) / fade);
    const value = Math.round(Math.sin(step * i) * envelope * AMPLITUDE * 32767);
    out.writeInt16LE(value, i * BYTES_PER_SAMPLE);
  }
  return out;
}

/**
 * A canonical PCM WAVE file (Microsoft RIFF/WAVE; the 44-byte header of WAVE_FORMAT_PCM):
 *   "RIFF" <size = 36 + dataBytes> "WAVE"
 *   "fmt " <16> formatTag=1 channels=1 sampleRate byteRate=sampleRate·blockAlign blockAlign=2 bits=16
 *   "data" <dataBytes> samples…
 * The data chunk is always an even length (2 bytes per sample), so no RIFF pad byte is needed.
 */
export function wav(seedText: string, durationMs: number, sampleRate: number = DEFAULT_SAMPLE_RATE): Buffer {
  const data = pcm(seedText, durationMs, sampleRate);
  const blockAlign = CHANNELS * BYTES_PER_SAMPLE;
  const header = Buffer.alloc(WAV_HEADER_BYTES);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(WAV_HEADER_BYTES - 8 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk body size for PCM
  header.writeUInt16LE(1, 20); // WAVE_FORMAT_PCM
  header.writeUInt16LE(CHANNELS, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28); // byte rate
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(BYTES_PER_SAMPLE * 8, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/** CRC-32 lookup table for the reflected polynomial 0xEDB88320 (PNG spec Annex D, ISO 3309). */
const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG uses it: initial 0xFFFFFFFF, final XOR 0xFFFFFFFF (PNG spec §5.5, Annex D). */
function crc32(...parts: readonly Uint8Array[]): number {
  let c = 0xffffffff;
  for (const part of parts) {
    for (const byte of part) c = (CRC_TABLE[(c ^ byte) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk (PNG spec §5.3): length (uint32 BE, data only), type, data, CRC over type+data. */
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4), data), 0);
  return Buffer.concat([head, data, crc]);
}

function checkSide(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_IMAGE_SIDE) {
    const message = `image ${name} must be an integer in [1, ${MAX_IMAGE_SIDE}], got ${String(value)}.`;
    throw new MeshError('invalid_param', message, { param: 'size' });
  }
}

/** PNG file signature (PNG spec §5.2). */
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * A truecolour 8-bit PNG (colour type 2) whose two colours, stripe width and stripe direction
 * come from sha256 of the seed: a vertical gradient between the colours with darker diagonal
 * stripes. Layout per PNG spec: signature (§5.2), IHDR (§11.2.2), one IDAT holding the zlib
 * stream of all scanlines, each prefixed with filter type 0 "None" (§7.2, §9.2), IEND (§11.2.5).
 */
export function png(seedText: string, width = 64, height = 64): Buffer {
  checkSide('width', width);
  checkSide('height', height);
  const seed = seedBytes('image', seedText);
  const from = [seed[0] ?? 0, seed[1] ?? 0, seed[2] ?? 0];
  const to = [seed[3] ?? 0, seed[4] ?? 0, seed[5] ?? 0];
  const stripe = 4 + ((seed[6] ?? 0) % 13);
  const direction = (seed[7] ?? 0) & 1 ? 1 : -1;

  const rowBytes = 1 + width * 3;
  const raw = Buffer.alloc(rowBytes * height); // zero-filled, so each filter byte is already 0
  for (let y = 0; y < height; y++) {
    const t = height === 1 ? 0 : y / (height - 1);
    for (let x = 0; x < width; x++) {
      const dark = Math.floor((x + direction * y + MAX_IMAGE_SIDE) / stripe) % 2 === 1;
      const offset = y * rowBytes + 1 + x * 3;
      for (let c = 0; c < 3; c++) {
        const value = (from[c] as number) + ((to[c] as number) - (from[c] as number)) * t;
        raw[offset + c] = Math.round(dark ? value * 0.75 : value);
      }
    }
  }

  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type 2: truecolour RGB
  ihdr[10] = 0; // compression method 0: zlib deflate (§10)
  ihdr[11] = 0; // filter method 0: adaptive, five filter types (§9)
  ihdr[12] = 0; // interlace method 0: none (§8)
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
