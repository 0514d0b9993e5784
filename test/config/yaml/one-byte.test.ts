// Strings read from a config file that holds a character past U+00FF somewhere (an em dash in a comment)
// come out as one-byte strings when they can: V8 otherwise keeps every slice of such a text two-byte, and
// the names, header values and URLs built from them were narrowed again on every request (issue 16).
// v8.serialize tells the two apart: a one-byte string is tagged '"' (0x22), a two-byte one 'c' (0x63).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serialize } from 'node:v8';
import { loadConfigFile } from '../../../src/config/load.ts';
import { parseYaml } from '../../../src/config/yaml/parser.ts';

/** The V8 serializer's tag for the string: after the 2-byte header and any padding bytes (0x00). */
function tag(s: string): string {
  const bytes = serialize(s);
  let i = 2;
  while (bytes[i] === 0x00) i++;
  return bytes[i] === 0x22 ? 'one-byte' : bytes[i] === 0x63 ? 'two-byte' : `tag ${bytes[i]}`;
}

/** Every key and string value of a parsed document, with its path. */
function strings(value: unknown, at = '', out: [string, string][] = []): [string, string][] {
  if (typeof value === 'string') out.push([at, value]);
  else if (Array.isArray(value)) value.forEach((v, i) => strings(v, `${at}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push([`${at}.${k} (key)`, k]);
      strings(v, `${at}.${k}`, out);
    }
  }
  return out;
}

const TEXT = [
  '# The bench config — generated, do not edit',
  'providers:',
  '  upstream:            # the fake upstream — local',
  '    base_url: "http://127.0.0.1:8080/v1"',
  "    headers: {x-team: 'platform'}",
  'models:',
  '  upstream.bench-model: {provider: upstream, name: bench-model}',
  'note: |',
  '  block text',
  'café: déjà vu',
  'wide: "ein Gedankenstrich — bleibt"',
  '',
].join('\n');

test('keys and values of a file holding a wide character are one-byte strings where they fit in Latin-1', () => {
  const doc = parseYaml(TEXT, 'mesh.yaml');
  // The premise: this decoded text is two-byte, and so is a plain slice of it.
  assert.equal(tag(TEXT), 'two-byte');
  assert.equal(tag(TEXT.slice(TEXT.indexOf('upstream'), TEXT.indexOf('upstream') + 8)), 'two-byte');
  const found = strings(doc);
  assert.ok(found.length >= 12);
  for (const [where, s] of found) {
    assert.equal(tag(s), /[^\x00-\xff]/.test(s) ? 'two-byte' : 'one-byte', `${where} ${JSON.stringify(s)}`);
  }
  // Nothing changed in content: Latin-1 letters included.
  assert.deepEqual(doc, {
    providers: { upstream: { base_url: 'http://127.0.0.1:8080/v1', headers: { 'x-team': 'platform' } } },
    models: { 'upstream.bench-model': { provider: 'upstream', name: 'bench-model' } },
    note: 'block text\n',
    café: 'déjà vu',
    wide: 'ein Gedankenstrich — bleibt',
  });
});

test('the loaded config: model, provider and pool names from such a file are one-byte', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mesh-one-byte-'));
  try {
    const file = path.join(dir, 'mesh.yaml');
    fs.writeFileSync(file, [
      '# one provider — simulated',
      'providers:',
      '  sim: {connector: modelmesh.simulated.v1}   # no key — for tests',
      'models:',
      '  sim.small: {provider: sim, name: small-model, capabilities: [text-generation]}',
      'pools:',
      '  text-generation: {models: [sim.small]}   # the pool — one model',
      '',
    ].join('\n'));
    const config = loadConfigFile(file, {});
    const model = config.models.get('sim.small');
    assert.ok(model !== undefined);
    for (const s of [model.id, model.name, model.provider, ...config.pools.keys(), ...config.providers.keys()]) {
      assert.equal(tag(s), 'one-byte', JSON.stringify(s));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
