// The status page document: self-contained (no external reference), token never in a URL, every section
// present, and the CSP hashes match the inline script and style. Served by a real node:http server.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { STATUS_PAGE_CSP, statusPage } from '../../../src/proxy/ui/page.ts';
import { PAGE_SCRIPT } from '../../../src/proxy/ui/page-script.ts';
import { closeServer, listen } from '../../helpers/listen.ts';

const { html, headers } = statusPage();
const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';

describe('status page HTML', () => {
  it('references nothing outside the page', () => {
    assert.doesNotMatch(html, /https?:/i);
    assert.doesNotMatch(html, /\/\//, 'no protocol-relative URL (and no line comment that could hide one)');
    assert.doesNotMatch(html, /\s(src|href|action|formaction|xmlns)\s*=\s*["']/i, 'no attribute that loads or links anything');
    assert.doesNotMatch(html, /@import|url\(/i, 'the stylesheet loads nothing');
    assert.doesNotMatch(html, /<(link|img|iframe|object|embed)\b/i);
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'one inline script, no external one');
  });

  it('never puts the token in a URL', () => {
    assert.doesNotMatch(script, /[?&]token=|access_token|location|history\.|window\.open|document\.cookie|localStorage/);
    assert.match(script, /authorization: 'Bearer ' \+ token/, 'the token travels in the Authorization header');
    // The only URLs built are BASE + a fixed path (+ an encoded id for actions): no token concatenated in.
    const urls = [...script.matchAll(/fetch\(([^,]+),/g)].map((m) => m[1]?.trim());
    assert.deepEqual(urls, ['BASE + path']);
    for (const call of script.matchAll(/call\('(GET|POST)', ([^)]*)\)/g)) assert.doesNotMatch(call[2] ?? '', /token/);
    assert.match(html, /<input id="token" name="token" type="password"/);
    assert.match(script, /sessionStorage/);
  });

  it('has every section the operator needs', () => {
    for (const id of ['pools', 'traffic', 'providers', 'clients', 'decisions', 'login', 'pool-list', 'charts', 'decision-rows']) {
      assert.match(html, new RegExp(`id="${id}"`), id);
    }
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
    assert.match(style, /@media \(max-width:600px\)/, 'a phone layout');
    assert.match(script, /'\/ui\/data'/, 'polls the data endpoint');
    assert.match(script, /'\/' \+ kind \+ '\/' \+ encodeURIComponent\(id\) \+ '\/' \+ action/, 'the admin API routes');
    assert.match(script, /'models'/);
    assert.match(script, /'providers'/);
    assert.match(script, /failover/);
    assert.match(html, /data-base="\/mesh" data-poll="5000"/);
  });

  it('builds the DOM with textContent, not HTML from data', () => {
    const inner = [...script.matchAll(/innerHTML\s*=\s*([^;]+);/g)].map((m) => m[1] ?? '');
    assert.equal(inner.length, 1, 'only the chart');
    assert.doesNotMatch(inner[0] ?? '', /\b(name|reason|id|model|data)\b/);
    assert.doesNotMatch(script, /insertAdjacentHTML|outerHTML|document\.write|eval\(|new Function/);
  });

  it('pins the inline script and style by hash in a strict CSP', () => {
    const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    assert.equal(script, PAGE_SCRIPT);
    assert.match(STATUS_PAGE_CSP, /^default-src 'none'; /);
    assert.ok(STATUS_PAGE_CSP.includes(`script-src ${hash(script)}`));
    assert.ok(STATUS_PAGE_CSP.includes(`style-src ${hash(style)}`));
    assert.match(STATUS_PAGE_CSP, /connect-src 'self'/);
    assert.doesNotMatch(STATUS_PAGE_CSP, /unsafe/);
    assert.equal(headers['content-security-policy'], STATUS_PAGE_CSP);
    assert.equal(headers['cache-control'], 'no-store');
    assert.equal(headers['x-frame-options'], 'DENY');
  });

  it('takes another base path and refuses one that could break out of the attribute', () => {
    assert.match(statusPage({ base: '/ops/mesh', pollMs: 2_000 }).html, /data-base="\/ops\/mesh" data-poll="2000"/);
    for (const base of ['mesh', '/mesh/', '//evil.example', '/a"b', '/a b']) assert.throws(() => statusPage({ base }), /base/);
  });

  it('is served as one document with its headers', async (t) => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(html)) });
      res.end(html);
    });
    const base = await listen(server);
    t.after(() => closeServer(server));
    const res = await fetch(`${base}/mesh/ui`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('content-security-policy'), STATUS_PAGE_CSP);
    assert.equal(await res.text(), html);
  });
});
