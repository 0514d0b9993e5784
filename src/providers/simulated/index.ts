// modelmesh.simulated.v1 (DESIGN §8): answers every endpoint locally with deterministic content, so a
// fresh checkout serves requests with no API key. `latency` and `failure_rate` drive failover drills.
// Every wait honours the call's signal and leaves no timer behind once aborted or closed.
import type { CancelSignal } from '../../lib/cancel.ts';
import type { ProviderConfig } from '../../config/types.ts';
import { MeshError } from '../../errors.ts';
import { formField } from '../../lib/multipart.ts';
import type { SseEvent } from '../../lib/sse.ts';
import type { BufferedResponse, Provider, ProviderCall, ProviderResponse } from '../provider.ts';
import { chatChunks, chatCompletion, chatReply, completionId, estimateTokens, transcription, transcriptText } from './content.ts';
import { png, wav, pcm } from './media.ts';
import { imageEvents, speechEvents, transcriptEvents } from './stream-events.ts';
import { editAsGeneration, legacyId, moderation, textCompletion, textCompletionChunks } from './legacy.ts';
import { embedText, floatsToBase64 } from '../../lib/vectors.ts';
import { upstreamError } from '../http/upstream-failure.ts';

/** Bytes per chunk of a streamed audio answer. */
const AUDIO_CHUNK = 4 * 1024;
/** Speech length: ~60 ms per word, at most 10 s. */
const MS_PER_WORD = 60;
const MAX_SPEECH_MS = 10_000;
/** Largest image side rendered at the requested size; bigger sizes get a 64x64 image. */
const MAX_SIDE = 256;

type Json = Record<string, unknown>;

const cancelled = (): MeshError => new MeshError('cancelled', 'client closed the request');

export class SimulatedProvider implements Provider {
  readonly id: string;
  readonly config: ProviderConfig;
  readonly simulated = true;
  /** Cancels of pending waits, so close() leaves no timer behind. */
  readonly #waits = new Set<() => void>();

  constructor(config: ProviderConfig) {
    this.id = config.id;
    this.config = config;
  }

  async call(call: ProviderCall): Promise<ProviderResponse> {
    await this.#sleep(this.config.simulated.latency, call.signal);
    const rate = this.config.simulated.failure_rate;
    if (rate > 0 && Math.random() < rate) throw upstreamError(this.id, '503 simulated failure', 503);
    try {
      return this.#answer(call);
    } catch (err) {
      // A bad parameter is what a real upstream answers with a 400: a client error, not a provider failure.
      if (err instanceof MeshError && err.code === 'invalid_param') throw this.#badRequest(err.message);
      throw err;
    }
  }

  close(): void {
    for (const cancel of this.#waits) cancel();
    this.#waits.clear();
  }

  #answer(call: ProviderCall): ProviderResponse {
    const { body, model } = call;
    if (call.endpoint === 'chat') {
      const reply = chatReply(body, model.name);
      const created = Math.floor(Date.now() / 1000);
      const id = completionId(`${call.requestId}\0${model.id}`);
      if (call.mode === 'buffer') return buffered(JSON.stringify(chatCompletion(reply, model.name, created, id)), 'application/json');
      if (call.mode !== 'sse') throw this.#badRequest('chat answers JSON or an event stream');
      const options = body['stream_options'];
      const includeUsage = typeof options === 'object' && options !== null && (options as Json)['include_usage'] === true;
      const chunks = chatChunks(reply, model.name, created, id, { includeUsage });
      const events: SseEvent[] = chunks.map((c) => ({ data: JSON.stringify(c) }));
      events.push({ data: '[DONE]' });
      const { iterator, close } = this.#paced(events, this.config.simulated.chunk_interval, call.signal);
      return { kind: 'sse', status: 200, headers: { 'content-type': 'text/event-stream' }, contentType: 'text/event-stream', events: iterator, close };
    }
    if (call.endpoint === 'speech') {
      const input = body['input'];
      if (typeof input !== 'string') throw this.#badRequest('input must be a string');
      const words = input.split(/\s+/).filter((w) => w !== '').length;
      const ms = Math.min(MAX_SPEECH_MS, Math.max(1, words) * MS_PER_WORD);
      // Only WAV and raw PCM are synthesised; other formats get WAV, and the content type says so.
      const isPcm = body['response_format'] === 'pcm';
      const audio = isPcm ? pcm(input, ms) : wav(input, ms);
      const contentType = isPcm ? 'audio/pcm' : 'audio/wav';
      if (call.mode === 'buffer') return buffered(audio, contentType);
      if (call.mode === 'sse') return this.#sse(speechEvents(audio, input), call.signal);
      const pieces: Buffer[] = [];
      for (let i = 0; i < audio.length; i += AUDIO_CHUNK) pieces.push(audio.subarray(i, i + AUDIO_CHUNK));
      const { iterator, close } = this.#paced(pieces, 0, call.signal);
      const headers = { 'content-type': contentType, 'content-length': String(audio.length) };
      return { kind: 'bytes', status: 200, headers, contentType, chunks: iterator, close };
    }
    if (call.endpoint === 'completions') return this.#completion(call);
    if (call.mode === 'sse' && (call.endpoint === 'transcriptions' || call.endpoint === 'translations')) {
      const file = call.form?.parts.find((p) => p.name === 'file');
      if (file === undefined) throw this.#badRequest('file is required');
      return this.#sse(transcriptEvents(transcriptText(file.data.length, file.filename), file.data.length), call.signal);
    }
    if (call.mode === 'sse' && (call.endpoint === 'images' || call.endpoint === 'image-edits')) return this.#imageStream(call);
    if (call.mode !== 'buffer') throw this.#badRequest(`${call.endpoint} does not stream`);
    if (call.endpoint === 'moderations') {
      return buffered(JSON.stringify(moderation(body, model.name, legacyId('modr', `${call.requestId}\0${model.id}`))), 'application/json');
    }
    if (call.endpoint === 'image-edits') {
      if (call.form === null) throw this.#badRequest('image edits take a multipart form');
      return buffered(JSON.stringify(images(editAsGeneration(call.form))), 'application/json');
    }
    if (call.endpoint === 'embeddings') return buffered(JSON.stringify(this.#embeddings(body, model.name)), 'application/json');
    if (call.endpoint === 'images') return buffered(JSON.stringify(images(body)), 'application/json');
    // transcriptions, translations: wire §5 multipart form
    const file = call.form?.parts.find((p) => p.name === 'file');
    if (call.form === null || file === undefined) throw this.#badRequest('file is required');
    const answer = transcription(file.data.length, file.filename, formField(call.form, 'response_format') ?? 'json');
    return buffered(answer.body, answer.contentType);
  }

  /** Legacy completions (simulated/legacy.ts): a text_completion object, or its chunks paced like chat. */
  #completion(call: ProviderCall): ProviderResponse {
    const created = Math.floor(Date.now() / 1000);
    const id = legacyId('cmpl', `${call.requestId}\0${call.model.id}`);
    if (call.mode === 'buffer') return buffered(JSON.stringify(textCompletion(call.body, call.model.name, created, id)), 'application/json');
    if (call.mode !== 'sse') throw this.#badRequest('completions answer JSON or an event stream');
    const options = call.body['stream_options'];
    const includeUsage = typeof options === 'object' && options !== null && (options as Json)['include_usage'] === true;
    const events: SseEvent[] = textCompletionChunks(call.body, call.model.name, created, id, includeUsage).map((c) => ({ data: JSON.stringify(c) }));
    events.push({ data: '[DONE]' });
    const { iterator, close } = this.#paced(events, this.config.simulated.chunk_interval, call.signal);
    return { kind: 'sse', status: 200, headers: { 'content-type': 'text/event-stream' }, contentType: 'text/event-stream', events: iterator, close };
  }

  /** `stream: true` images: the b64_json answer's images as gpt-image's events. */
  #imageStream(call: ProviderCall): ProviderResponse {
    let body: Json;
    if (call.endpoint === 'images') body = { ...call.body };
    else if (call.form !== null) body = editAsGeneration(call.form);
    else throw this.#badRequest('image edits take a multipart form');
    body['response_format'] = 'b64_json';
    const data = images(body)['data'] as { b64_json: string }[];
    const prefix = call.endpoint === 'images' ? 'image_generation' : 'image_edit';
    return this.#sse(imageEvents(prefix, data.map((d) => d.b64_json), typeof body['prompt'] === 'string' ? body['prompt'] : ''), call.signal);
  }

  /** `events` as an event stream paced at chunk_interval. */
  #sse(events: SseEvent[], signal: CancelSignal): ProviderResponse {
    const { iterator, close } = this.#paced(events, this.config.simulated.chunk_interval, signal);
    return { kind: 'sse', status: 200, headers: { 'content-type': 'text/event-stream' }, contentType: 'text/event-stream', events: iterator, close };
  }

  #embeddings(body: Json, model: string): Json {
    const input = body['input'];
    // string | string[] | number[] | number[][] (wire §3); a token array is embedded from its JSON text.
    const items: unknown[] = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input : [input];
    let tokens = 0;
    const texts = items.map((item) => {
      if (typeof item === 'string') {
        tokens += estimateTokens(item);
        return item;
      }
      if (Array.isArray(item) && item.length > 0 && item.every((n) => typeof n === 'number')) {
        tokens += item.length;
        return JSON.stringify(item);
      }
      throw this.#badRequest('input must be a string, an array of strings, or token arrays');
    });
    const requested = body['dimensions'];
    const dimensions = typeof requested === 'number' ? requested : this.config.simulated.dimensions;
    const base64 = body['encoding_format'] === 'base64';
    const data = texts.map((text, index) => {
      const vector = embedText(text, dimensions);
      return { object: 'embedding', index, embedding: base64 ? floatsToBase64(vector) : vector };
    });
    return { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  }

  #badRequest(message: string): MeshError {
    return upstreamError(this.id, `400 ${message}`, 400);
  }

  /**
   * Waits `ms`, rejecting with MeshError('cancelled') on abort; provider close() ends it as a failure.
   * `early` receives a function that ends the wait at once (a stream closed by its consumer).
   */
  #sleep(ms: number, signal: CancelSignal, early?: (stop: () => void) => void): Promise<void> {
    if (signal.aborted) return Promise.reject(cancelled());
    if (!(ms > 0)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const end = (err?: MeshError): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#waits.delete(onClose);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => end(cancelled());
      const onClose = (): void => end(upstreamError(this.id, 'provider closed'));
      const timer = setTimeout(end, ms);
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waits.add(onClose);
      early?.(() => end());
    });
  }

  /** Items one per `interval` ms (the first at once), as an iterator that throws cancelled on abort. */
  #paced<T>(items: T[], interval: number, signal: CancelSignal): { iterator: AsyncIterableIterator<T>; close(): void } {
    let index = 0;
    let closed = false;
    let stopWait: (() => void) | undefined;
    const close = (): void => {
      closed = true;
      stopWait?.();
    };
    const iterator: AsyncIterableIterator<T> = {
      next: async (): Promise<IteratorResult<T>> => {
        if (closed || index >= items.length) return { done: true, value: undefined };
        if (signal.aborted) throw cancelled();
        if (index > 0) await this.#sleep(interval, signal, (stop) => (stopWait = stop));
        const value = items[index++];
        return closed || value === undefined ? { done: true, value: undefined } : { done: false, value };
      },
      return: (): Promise<IteratorResult<T>> => {
        close();
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    return { iterator, close };
  }
}

function buffered(body: string | Buffer, contentType: string): BufferedResponse {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return { kind: 'buffer', status: 200, headers: { 'content-type': contentType }, contentType, body: bytes };
}

/** wire §6: `n` images; `size` honoured up to 256x256, else 64x64; b64_json or a data: URL. */
function images(body: Json): Json {
  const prompt = typeof body['prompt'] === 'string' ? body['prompt'] : '';
  const n = typeof body['n'] === 'number' && Number.isSafeInteger(body['n']) ? Math.min(10, Math.max(1, body['n'])) : 1;
  const size = typeof body['size'] === 'string' ? /^(\d+)x(\d+)$/.exec(body['size']) : null;
  const w = Number(size?.[1] ?? 0);
  const h = Number(size?.[2] ?? 0);
  const fits = w >= 1 && h >= 1 && w <= MAX_SIDE && h <= MAX_SIDE;
  const b64 = body['response_format'] === 'b64_json';
  const data = Array.from({ length: n }, (_, i) => {
    const image = png(`${prompt}\0${i}`, fits ? w : 64, fits ? h : 64).toString('base64');
    return b64 ? { b64_json: image } : { url: `data:image/png;base64,${image}` };
  });
  return { created: Math.floor(Date.now() / 1000), data };
}
