// Responses `tools`, `tool_choice` and `text.format` (openai-node FunctionTool, ToolChoiceFunction,
// ResponseFormatTextConfig) and their chat counterparts (openai-wire §2: tools, tool_choice, response_format).
import { invalidType, invalidValue, isRecord, missing, unsupported } from './check.ts';
import type { FunctionTool, TextFormat, ToolChoice } from './types.ts';

const CHOICES = ['none', 'auto', 'required'] as const;

/** Function tools in the echo shape; any other (built-in) tool is a 400 naming it. */
export function tools(value: unknown): FunctionTool[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidType('tools', 'an array', value);
  return value.map((tool, i) => functionTool(tool, `tools[${i}]`));
}

function functionTool(tool: unknown, param: string): FunctionTool {
  if (!isRecord(tool)) throw invalidType(param, 'an object', tool);
  const type = tool['type'];
  if (type === undefined) throw missing(`${param}.type`);
  if (type !== 'function') {
    throw unsupported(
      `${param}.type`,
      `The built-in tool ${JSON.stringify(type)} ('${param}') needs a model that serves the Responses API natively; only 'function' tools can be translated to chat completions.`,
    );
  }
  const name = tool['name'];
  if (name === undefined || name === null) throw missing(`${param}.name`);
  if (typeof name !== 'string' || name.length === 0) throw invalidType(`${param}.name`, 'a non-empty string', name);
  const description = tool['description'];
  if (description !== undefined && description !== null && typeof description !== 'string') {
    throw invalidType(`${param}.description`, 'a string', description);
  }
  const parameters = tool['parameters'];
  if (parameters !== undefined && parameters !== null && !isRecord(parameters)) throw invalidType(`${param}.parameters`, 'an object', parameters);
  const strict = tool['strict'];
  if (strict !== undefined && strict !== null && typeof strict !== 'boolean') throw invalidType(`${param}.strict`, 'a boolean', strict);
  return {
    type: 'function',
    name,
    description: typeof description === 'string' ? description : null,
    parameters: isRecord(parameters) ? parameters : null,
    // Responses function tools are strict unless told otherwise (the chat default is the opposite).
    strict: strict !== false,
  };
}

/**
 * Chat tools for the echoed ones. `strict` goes upstream only when the client set it: a chat server that does
 * not enforce schemas may reject the flag, and the client's schema may not meet strict mode's rules.
 */
export function chatTools(echoed: readonly FunctionTool[], raw: unknown): Record<string, unknown>[] {
  const given = Array.isArray(raw) ? raw : [];
  return echoed.map((tool, i) => {
    const fn: Record<string, unknown> = { name: tool.name };
    if (tool.description !== null) fn['description'] = tool.description;
    if (tool.parameters !== null) fn['parameters'] = tool.parameters;
    const original: unknown = given[i];
    if (isRecord(original) && typeof original['strict'] === 'boolean') fn['strict'] = original['strict'];
    return { type: 'function', function: fn };
  });
}

export function toolChoice(value: unknown): ToolChoice {
  if (value === undefined || value === null) return 'auto';
  if (typeof value === 'string') {
    if ((CHOICES as readonly string[]).includes(value)) return value as ToolChoice;
    throw invalidValue('tool_choice', value, CHOICES);
  }
  if (!isRecord(value)) throw invalidType('tool_choice', 'a string or an object', value);
  if (value['type'] !== 'function') {
    throw unsupported('tool_choice', `tool_choice of type ${JSON.stringify(value['type'])} needs a model that serves the Responses API natively; use 'none', 'auto', 'required' or {"type": "function", "name": …}.`);
  }
  const name = value['name'];
  if (name === undefined || name === null) throw missing('tool_choice.name');
  if (typeof name !== 'string') throw invalidType('tool_choice.name', 'a string', name);
  return { type: 'function', name };
}

export function chatToolChoice(choice: ToolChoice): unknown {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

export function textFormat(value: unknown): TextFormat {
  if (value === undefined || value === null) return { type: 'text' };
  if (!isRecord(value)) throw invalidType('text.format', 'an object', value);
  const type = value['type'];
  if (type === 'text' || type === 'json_object') return { type };
  if (type !== 'json_schema') throw invalidValue('text.format.type', type, ['text', 'json_schema', 'json_object']);
  const name = value['name'];
  if (name === undefined || name === null) throw missing('text.format.name');
  if (typeof name !== 'string') throw invalidType('text.format.name', 'a string', name);
  const schema = value['schema'];
  if (schema === undefined || schema === null) throw missing('text.format.schema');
  if (!isRecord(schema)) throw invalidType('text.format.schema', 'an object', schema);
  const strict = value['strict'];
  if (strict !== undefined && strict !== null && typeof strict !== 'boolean') throw invalidType('text.format.strict', 'a boolean', strict);
  const description = value['description'];
  if (description !== undefined && typeof description !== 'string') throw invalidType('text.format.description', 'a string', description);
  const format: TextFormat = { type: 'json_schema', name, schema, strict: typeof strict === 'boolean' ? strict : null };
  if (typeof description === 'string') format.description = description;
  return format;
}

/** The chat `response_format` for a text format (null: plain text, nothing to send). */
export function responseFormat(format: TextFormat): Record<string, unknown> | null {
  if (format.type === 'text') return null;
  if (format.type === 'json_object') return { type: 'json_object' };
  const schema: Record<string, unknown> = { name: format.name, schema: format.schema };
  if (format.strict !== null) schema['strict'] = format.strict;
  if (format.description !== undefined) schema['description'] = format.description;
  return { type: 'json_schema', json_schema: schema };
}
