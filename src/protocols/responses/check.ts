// 400s in OpenAI's words (openai-wire §1): type invalid_request_error, `param` the exact path of the offending
// field (`input[2].content[0].image_url`, `tools[1].name`, `text.format.schema`), as the real API names it.
import { MeshError } from '../../errors.ts';

export { isRecord } from '../../lib/is-record.ts';

export function missing(param: string): MeshError {
  return new MeshError('missing_param', `Missing required parameter: '${param}'.`, { param });
}

export function invalidType(param: string, expected: string, value: unknown): MeshError {
  const kind = typeof value;
  const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : kind === 'object' || kind === 'undefined' ? `an ${kind}` : `a ${kind}`;
  return new MeshError('invalid_param', `Invalid type for '${param}': expected ${expected}, but got ${got} instead.`, { param });
}

export function invalidValue(param: string, value: unknown, supported: readonly string[]): MeshError {
  const list = supported.map((s) => `'${s}'`).join(', ');
  return new MeshError('invalid_param', `Invalid value: ${JSON.stringify(value)}. Supported values are: ${list}.`, { param });
}

export function unsupported(param: string, message: string): MeshError {
  return new MeshError('invalid_param', message, { param });
}

export function optionalString(body: Record<string, unknown>, key: string, param = key): string | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  return value;
}

export function optionalBoolean(body: Record<string, unknown>, key: string, param = key): boolean | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'boolean') throw invalidType(param, 'a boolean', value);
  return value;
}

export function optionalNumber(body: Record<string, unknown>, key: string, min: number, max: number): number | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidType(key, 'a decimal', value);
  if (value < min) throw new MeshError('invalid_param', `Invalid '${key}': decimal below minimum value. Expected a value >= ${min}, but got ${value} instead.`, { param: key });
  if (value > max) throw new MeshError('invalid_param', `Invalid '${key}': decimal above maximum value. Expected a value <= ${max}, but got ${value} instead.`, { param: key });
  return value;
}

export function optionalInteger(body: Record<string, unknown>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(key, 'an integer', value);
  if (value < min) throw new MeshError('invalid_param', `Invalid '${key}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`, { param: key });
  if (value > max) throw new MeshError('invalid_param', `Invalid '${key}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`, { param: key });
  return value;
}
