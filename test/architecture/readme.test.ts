// The README is the one document (DEVELOPERS.md: "keep it navigable"): its Contents lists every section and
// subsection, and every link to a place in it (`](#anchor)`) lands on a heading. Anchors are made the way
// GitHub makes them: lowercased, punctuation other than `-` and `_` dropped, spaces turned into `-`, and a
// repeated heading numbered (`-1`, `-2`).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

export function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replace(/ /g, '-');
}

/** Headings outside code blocks, with their level and anchor. */
export function headings(markdown: string): { level: number; text: string; anchor: string }[] {
  const out: { level: number; text: string; anchor: string }[] = [];
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6}) (.+)$/.exec(line);
    if (m === null) continue;
    const base = githubAnchor(m[2] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.push({ level: (m[1] as string).length, text: m[2] as string, anchor: n === 0 ? base : `${base}-${n}` });
  }
  return out;
}

function links(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(#([^)\s]+)\)/g)].map((m) => m[1] as string);
}

test('anchors are made the way GitHub makes them', () => {
  assert.equal(githubAnchor('Chat — `POST /v1/chat/completions`'), 'chat--post-v1chatcompletions');
  assert.equal(githubAnchor('Deactivation (`deactivation:`)'), 'deactivation-deactivation');
  assert.deepEqual(headings('# A\n```\n# not a heading\n```\n## A\n').map((h) => h.anchor), ['a', 'a-1']);
});

test('the README Contents lists every section and subsection', () => {
  const start = README.indexOf('\n## Contents\n');
  assert.ok(start >= 0, 'a Contents section');
  const end = README.indexOf('\n## ', start + 1);
  const listed = new Set(links(README.slice(start, end)));
  const missing = headings(README)
    .filter((h) => (h.level === 2 || h.level === 3) && h.text !== 'Contents' && !listed.has(h.anchor))
    .map((h) => `${'#'.repeat(h.level)} ${h.text}`);
  assert.deepEqual(missing, [], 'headings missing from Contents');
});

test('every link to a place in the README lands on a heading', () => {
  const anchors = new Set(headings(README).map((h) => h.anchor));
  const broken = [...new Set(links(README))].filter((a) => !anchors.has(a));
  assert.deepEqual(broken, []);
});
