// No import cycles in src/, type-only imports included (issue 10): walks every .ts file, follows relative
// imports and re-exports, and reports each strongly connected group (Tarjan) with its files.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

export function importGraph(files: readonly string[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    // Comments first: an `import … from '…'` in a doc comment is not an edge.
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
    const targets = new Set<string>();
    for (const m of text.matchAll(IMPORT)) {
      const base = resolve(dirname(file), (m[1] ?? m[2]) as string);
      const hit = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find((c) => existsSync(c) && statSync(c).isFile());
      if (hit !== undefined) targets.add(hit);
    }
    edges.set(file, targets);
  }
  return edges;
}

/** Strongly connected groups of more than one file, or a file importing itself. */
export function cycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const groups: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || edges.get(v)?.has(v) === true) groups.push(group);
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return groups;
}

test('src/ has no import cycles, type-only imports included', () => {
  const files = sourceFiles(SRC);
  assert.ok(files.length > 50, `expected the whole source tree, found ${files.length} files`);
  const found = cycles(importGraph(files)).map((g) => g.map((f) => relative(SRC, f)).sort().join(' -> '));
  assert.deepEqual(found, []);
});

test('the cycle finder sees a cycle through type-only imports', () => {
  const a = '/x/a.ts';
  const b = '/x/b.ts';
  const c = '/x/c.ts';
  const edges = new Map([[a, new Set([b])], [b, new Set([a])], [c, new Set([a])]]);
  assert.deepEqual(cycles(edges).map((g) => g.sort()), [[a, b]]);
  assert.deepEqual(cycles(new Map([[a, new Set([a])]])), [[a]]);
  assert.deepEqual(cycles(new Map([[a, new Set([b])], [b, new Set<string>()]])), []);
});
