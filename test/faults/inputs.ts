// The bad inputs of the fault suite, generated from tables: for each JSON endpoint a valid body and the
// documented fields with what each accepts (README "Endpoints"), so every value of a wrong type or range
// becomes a case; plus malformed JSON (every prefix of a valid body in a full run), deep nesting, huge values
// and malformed multipart forms. Every case must be answered with an OpenAI-shaped 4xx and reach no upstream.
import { FULL, size } from './common.ts';

export interface BadInput {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

type Check = (v: unknown) => boolean;

const str: Check = (v) => typeof v === 'string' && v.length > 0;
const optional = (check: Check): Check => (v) => v === undefined || v === null || check(v);
const anyString: Check = (v) => typeof v === 'string';
const oneOf = (...values: string[]): Check => (v) => typeof v === 'string' && values.includes(v);
const int = (min: number, max: number): Check => (v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const num = (min: number, max: number): Check => (v) => typeof v === 'number' && v >= min && v <= max;
const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Endpoint {
  path: string;
  valid: Record<string, unknown>;
  /** Documented fields and what each accepts; every other value of VALUES is a bad input. */
  fields: Record<string, Check>;
}

const MESSAGES: Check = (v) => Array.isArray(v) && v.length > 0 && v.every((m) => record(m) && typeof m['role'] === 'string');
const EMBED_INPUT: Check = (v) => {
  if (typeof v === 'string') return v.length > 0;
  if (!Array.isArray(v) || v.length === 0 || v.length > 2048) return false;
  const token = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;
  if (typeof v[0] === 'number') return v.every(token);
  if (typeof v[0] === 'string') return v.every(str);
  return v.every((a) => Array.isArray(a) && a.length > 0 && a.every(token));
};

export const ENDPOINTS: Endpoint[] = [
  {
    path: '/v1/chat/completions',
    valid: { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] },
    fields: { model: str, messages: MESSAGES, stream: optional((v) => typeof v === 'boolean'), stream_options: optional(record) },
  },
  {
    path: '/v1/embeddings',
    valid: { model: 'embeddings', input: 'hello' },
    fields: { model: str, input: EMBED_INPUT, dimensions: optional(int(1, Number.MAX_SAFE_INTEGER)), user: optional(anyString), encoding_format: optional(oneOf('float', 'base64')) },
  },
  {
    path: '/v1/audio/speech',
    valid: { model: 'text-to-speech', input: 'hello', voice: 'alloy' },
    fields: {
      model: str, input: (v) => str(v) && [...(v as string)].length <= 4096,
      voice: (v) => str(v) || (record(v) && str(v['id'])),
      response_format: optional(oneOf('mp3', 'opus', 'aac', 'flac', 'wav', 'pcm')), speed: optional(num(0.25, 4)),
      instructions: optional(anyString), stream_format: optional(oneOf('audio', 'sse')),
    },
  },
  {
    path: '/v1/images/generations',
    valid: { model: 'image-generation', prompt: 'a lighthouse' },
    fields: {
      model: str, prompt: str, n: optional(int(1, 10)), size: optional(anyString), quality: optional(anyString), style: optional(anyString),
      user: optional(anyString), response_format: optional(oneOf('url', 'b64_json')), stream: optional((v) => typeof v === 'boolean'),
    },
  },
];

/** Values of every JSON type and edge; what a field does not accept is a case. */
function values(): unknown[] {
  const base: unknown[] = [null, true, false, 0, -1, 1.5, 11, 1e308, '', 'x', 'mp3 ', [], [1], [''], ['a', 1], [[]], [-1], {}, { a: 1 }, { id: '' }, [{}], [{ role: 1 }]];
  if (FULL) base.push(-0.5, 2 ** 53, 4.01, 0.2, 'FLOAT', 'true', [[1], 'a'], [{ role: 'user' }, 'x'], { id: 7 }, Array(2049).fill('a'), 'x'.repeat(4097));
  return base;
}

function jsonCase(name: string, path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): BadInput {
  return { name, path, headers, body: typeof body === 'string' ? Buffer.from(body) : body };
}

/** Every documented field set to every value it does not accept (and each required field left out). */
export function wrongTypes(): BadInput[] {
  const cases: BadInput[] = [];
  for (const ep of ENDPOINTS) {
    for (const [field, accepts] of Object.entries(ep.fields)) {
      if (!accepts(undefined)) {
        const { [field]: _dropped, ...rest } = ep.valid;
        cases.push(jsonCase(`${ep.path} without ${field}`, ep.path, JSON.stringify(rest)));
      }
      for (const value of values()) {
        if (accepts(value)) continue;
        cases.push(jsonCase(`${ep.path} ${field}=${JSON.stringify(value).slice(0, 40)}`, ep.path, JSON.stringify({ ...ep.valid, [field]: value })));
      }
    }
  }
  return cases;
}

/** Not JSON, not an object, not declared as JSON; and prefixes of valid bodies (every one in a full run). */
export function malformedJson(): BadInput[] {
  const broken = ['', ' ', '{', '}', '{"model":', '{"model":"x",}', "{'model':'x'}", '{"model":"x"}garbage', '{"a":1}{"b":2}', 'NaN', '[1,2]', 'null',
    '"text"', '42', 'true', '{"model":"x\u0000', '{"model":"\\u12"}', '{"a":01}', '{"a":1e}', '\ufeff{', '{"a":"\\x41"}', '{"a"}', '{,}', '[', '{"a":[1,}'];
  const cases: BadInput[] = [];
  for (const ep of ENDPOINTS) {
    for (const b of broken) cases.push(jsonCase(`${ep.path} body ${JSON.stringify(b)}`, ep.path, b));
    cases.push(jsonCase(`${ep.path} invalid UTF-8`, ep.path, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31])));
    const valid = JSON.stringify(ep.valid);
    cases.push(jsonCase(`${ep.path} text/plain`, ep.path, valid, { 'content-type': 'text/plain' }));
    cases.push(jsonCase(`${ep.path} no content type`, ep.path, valid, {}));
    cases.push(jsonCase(`${ep.path} form type`, ep.path, valid, { 'content-type': 'application/x-www-form-urlencoded' }));
    const step = size(7, 1);
    for (let cut = 1; cut < valid.length; cut += step) cases.push(jsonCase(`${ep.path} prefix ${cut}`, ep.path, valid.slice(0, cut)));
  }
  return cases;
}

/** JSON nested past the 128-level limit, in arrays and objects, in a pass-through field and in a validated one. */
export function deepNesting(): BadInput[] {
  const depths = FULL ? [129, 200, 1_000, 5_000, 20_000, 100_000, 400_000] : [129, 5_000, 100_000];
  const cases: BadInput[] = [];
  for (const ep of ENDPOINTS) {
    const valid = JSON.stringify(ep.valid).slice(0, -1);
    for (const depth of depths) {
      cases.push(jsonCase(`${ep.path} metadata [${depth}]`, ep.path, `${valid},"metadata":${'['.repeat(depth)}1${']'.repeat(depth)}}`));
      cases.push(jsonCase(`${ep.path} model {${depth}}`, ep.path, `{"model":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`));
      cases.push(jsonCase(`${ep.path} unclosed [${depth}`, ep.path, `${valid},"x":${'['.repeat(depth)}`));
    }
  }
  return cases;
}

/** Bodies over max_body (set to 1 MiB in the suite), huge numbers and strings, an unknown huge model name. */
export function hugeValues(): BadInput[] {
  const cases: BadInput[] = [];
  const big = 'x'.repeat(1_100_000);
  for (const ep of ENDPOINTS) {
    cases.push(jsonCase(`${ep.path} body over max_body`, ep.path, JSON.stringify({ ...ep.valid, pad: big })));
    cases.push(jsonCase(`${ep.path} model of 60 KB`, ep.path, JSON.stringify({ ...ep.valid, model: 'm'.repeat(60_000) })));
    cases.push(jsonCase(`${ep.path} number 1e999`, ep.path, JSON.stringify(ep.valid).replace(/"model":"[^"]*"/, '"model":1e999')));
    cases.push(jsonCase(`${ep.path} huge key count`, ep.path, `{${Array.from({ length: 5_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`));
  }
  cases.push(jsonCase('speech input of 5,000 characters', '/v1/audio/speech', JSON.stringify({ ...ENDPOINTS[2]?.valid, input: 'é'.repeat(5_000) })));
  cases.push(jsonCase('embeddings 3,000 inputs', '/v1/embeddings', JSON.stringify({ model: 'embeddings', input: Array(3_000).fill('a') })));
  return cases;
}

const BOUNDARY = 'faultsBoundary';

function part(name: string, value: string, filename?: string): string {
  const disposition = `form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}`;
  return `--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${filename === undefined ? '' : 'Content-Type: audio/wav\r\n'}\r\n${value}\r\n`;
}

function form(parts: string[], close = true): string {
  return parts.join('') + (close ? `--${BOUNDARY}--\r\n` : '');
}

/** Transcription forms: wrong field values, missing parts, and broken multipart framing. */
export function multipart(): BadInput[] {
  const type = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` };
  const file = part('file', 'RIFF....WAVE', 'a.wav');
  const model = part('model', 'speech-to-text');
  const bodies: [string, string, Record<string, string>?][] = [
    ['no file', form([model])],
    ['file as a text field', form([part('file', 'abc'), model])],
    ['no model', form([file])],
    ['empty model', form([file, part('model', '')])],
    ['no content type', form([file, model]), {}],
    ['json content type', '{"model":"speech-to-text"}', { 'content-type': 'application/json' }],
    ['no boundary', form([file, model]), { 'content-type': 'multipart/form-data' }],
    ['wrong boundary', form([file, model]), { 'content-type': 'multipart/form-data; boundary=other' }],
    ['unterminated', form([file, model], false)],
    ['garbage', 'this is not a form at all'],
    ['empty body', ''],
    ['part without headers', `--${BOUNDARY}\r\n\r\nvalue\r\n--${BOUNDARY}--\r\n`],
    ['part without disposition', `--${BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${BOUNDARY}--\r\n`],
    ['header line without colon', `--${BOUNDARY}\r\nContent-Disposition form-data\r\n\r\nx\r\n--${BOUNDARY}--\r\n`],
    ['truncated part headers', `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"`],
    ['huge part header', `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${'n'.repeat(200_000)}"\r\n\r\nx\r\n--${BOUNDARY}--\r\n`],
  ];
  for (const [field, bad] of [['response_format', 'xml'], ['response_format', ''], ['stream', 'yes'], ['stream', '1'], ['temperature', ''], ['temperature', 'hot'], ['temperature', '2'], ['temperature', '-0.1']] as const) {
    bodies.push([`${field}=${JSON.stringify(bad)}`, form([file, model, part(field, bad)])]);
  }
  const cases = bodies.map(([name, body, headers]) => jsonCase(`transcriptions ${name}`, '/v1/audio/transcriptions', body, headers ?? type));
  const whole = form([file, model]);
  // Every prefix of a valid form stops before the closing boundary: unterminated.
  for (let cut = 1; cut < whole.length - 4; cut += size(9, 1)) cases.push(jsonCase(`transcriptions prefix ${cut}`, '/v1/audio/translations', whole.slice(0, cut), type));
  return cases;
}
