// The status page (issue 17 point 1) in a real headless Chromium against `node dist/server.js`: the token
// typed into the page opens it and never reaches a URL, every section shows the proxy's own state (a
// failover highlighted, a client's limits), the buttons take a model out of rotation and back through the
// admin API, the page fits a laptop and a phone screen and follows the proxy going away and coming back,
// all under its Content-Security-Policy with no error in the console. Skips with one line when no browser is
// installed (`.ci/run` installs chromium).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Browser, type Page, skipWithoutBrowser } from '../helpers/browser.ts';
import { freePort } from '../helpers/ports.ts';
import { postJson, request } from '../helpers/proxy.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { sampleData } from '../proxy/ui/sample-data.ts';

const ADMIN = 'admin-token-for-the-page-0123456789';
const KEY = 'mm-status-page-client-key-0123456789';

async function config(): Promise<string> {
  return `
proxy:
  admin: {tokens: ["${ADMIN}"]}
providers:
  modelmesh.simulated.v1: {}
  down:
    connector: openai.llm.v1
    base_url: http://127.0.0.1:${await freePort()}/v1
    api_key: unused-key-0123456789
models:
  down.chat-model-with-a-rather-long-dated-name-2025-01-01: {provider: down, name: chat, capabilities: [chat-completion]}
  simulated.chat: {provider: modelmesh.simulated.v1, capabilities: [chat-completion]}
  simulated.chat2: {provider: modelmesh.simulated.v1, capabilities: [chat-completion]}
pools:
  text-generation:
    models: [down.chat-model-with-a-rather-long-dated-name-2025-01-01, simulated.chat, simulated.chat2]
    strategy: modelmesh.priority-selection.v1
    model_priority: [down.chat-model-with-a-rather-long-dated-name-2025-01-01, simulated.chat, simulated.chat2]
clients:
  ide-assistant:
    key: ${KEY}
    rpm: 120
    tpm: 200000
    max_concurrent: 8
    budget: {daily: 5, monthly: 100}
`;
}

const text = (selector: string): string => `Array.from(document.querySelectorAll(${JSON.stringify(selector)})).map((e) => e.textContent).join('\\n')`;

describe('status page in a real browser', skipWithoutBrowser(), () => {
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    server = await startServer({ yaml: await config() });
    // The first request fails over (the preferred model's upstream refuses connections); three more succeed.
    for (let i = 0; i < 4; i++) {
      const reply = await postJson(`${server.url}/v1/chat/completions`, { model: 'text-generation', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${KEY}` });
      assert.equal(reply.status, 200, reply.body);
    }
    browser = Browser.launch();
    page = await browser.page();
    await page.viewport(1366, 900, false);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('opens with the token typed into the page and shows every section', async () => {
    await page.goto(`${server.url}/mesh/ui`);
    assert.equal(await page.eval('document.getElementById("main").hidden'), true, 'nothing shown before the token');
    await page.eval(`document.getElementById('token').value = ${JSON.stringify(ADMIN)}; document.getElementById('login').requestSubmit(); true`);
    await page.waitFor('document.getElementById("conn").textContent === "live"');
    assert.equal(await page.eval('document.getElementById("login").hidden'), true);

    const pools = await page.eval<string>(text('#pool-list .card'));
    assert.match(pools, /text-generation/);
    for (const id of ['down.chat-model-with-a-rather-long-dated-name-2025-01-01', 'simulated.chat', 'simulated.chat2']) assert.match(pools, new RegExp(id.replace('.', '\\.')));
    assert.match(pools, /standby/, 'the refused model is shown in standby');
    assert.equal(await page.eval('document.querySelectorAll("#charts svg").length'), 3, 'requests, errors and p95 charts');
    // Beside the charts: the last minute up to now, whichever one-minute buckets the four requests fell in.
    const figures = await page.eval<string[]>(`Array.from(document.querySelectorAll('#charts .chart .val')).map((v) => v.textContent)`);
    assert.deepEqual(figures.slice(0, 2), ['4', '0%'], 'requests in the last minute, none failed');
    assert.match(figures[2] ?? '', /^\d+ ms$/);
    assert.match(await page.eval<string>(text('#provider-rows tr')), /modelmesh\.simulated\.v1/);
    const clients = await page.eval<string>(text('#client-rows tr'));
    assert.match(clients, /ide-assistant/);
    assert.match(clients, /of 120/, 'rpm against its limit');
    assert.match(clients, /\$5\.00/, 'daily budget');
    assert.match(clients, /4 requests/);
    assert.doesNotMatch(clients, new RegExp(KEY), 'never the client key');
    assert.equal(await page.eval('document.querySelectorAll("#decision-rows tr").length'), 4);
    // The rows that failed over are the ones the proxy's own data says did (the refused model took one or
    // more requests before its standby, as the deactivation policy decides).
    const data = (await request(`${server.url}/mesh/ui/data`, { headers: { authorization: `Bearer ${ADMIN}` } })).json as { decisions: { failovers: number }[] };
    const failedOver = data.decisions.filter((d) => d.failovers > 0).length;
    assert.ok(failedOver >= 1, 'the first request failed over');
    assert.equal(await page.eval('document.querySelectorAll("#decision-rows tr.failover").length'), failedOver, 'failovers highlighted');
    assert.match(await page.eval<string>(text('#decision-rows tr.failover')), /1 failover/);

    // The token went into the Authorization header only: no URL the page requested has it, nor its address.
    assert.ok(page.requests.some((u) => u === `${server.url}/mesh/ui/data`), page.requests.join(' '));
    for (const url of page.requests) {
      assert.ok(url.startsWith(`${server.url}/mesh/`), `only its own origin: ${url}`);
      assert.ok(!url.includes(ADMIN), `token in a URL: ${url}`);
    }
    assert.ok(!(await page.eval<string>('location.href')).includes(ADMIN));
    assert.equal(await page.eval('sessionStorage.getItem("modelmesh.admin-token")'), ADMIN, 'kept for this tab');
    assert.ok(await page.eval('document.documentElement.scrollWidth <= document.documentElement.clientWidth'), 'no sideways scrolling on a laptop');
    assert.deepEqual(page.problems, [], 'no error in the console, no CSP violation');
  });

  it('takes a model out of rotation and back with its buttons (the admin API)', async () => {
    const click = async (label: string): Promise<void> => {
      const clicked = await page.eval<boolean>(`(() => {
        const member = Array.from(document.querySelectorAll('#pool-list .member')).find((m) => m.querySelector('.id').textContent === 'simulated.chat2');
        const button = member && Array.from(member.querySelectorAll('button')).find((b) => b.textContent === ${JSON.stringify(label)});
        if (!button) return false;
        setTimeout(() => button.click(), 0); // a confirm() may open: the click must not block this evaluation
        return true;
      })()`);
      assert.ok(clicked, `${label} button of simulated.chat2`);
    };
    const status = async (): Promise<unknown> => {
      const reply = await request(`${server.url}/mesh/models/simulated.chat2`, { headers: { authorization: `Bearer ${ADMIN}` } });
      return (reply.json as { status?: unknown }).status;
    };
    const member = `Array.from(document.querySelectorAll('#pool-list .member')).find((m) => m.querySelector('.id').textContent === 'simulated.chat2').textContent`;

    await click('Deactivate');
    await page.waitFor(`${member}.includes('standby (manual)')`);
    assert.equal(await status(), 'standby');
    assert.deepEqual(page.dialogs, ['Take simulated.chat2 out of rotation until it is activated again?'], 'asked first');

    await click('Activate');
    await page.waitFor(`${member}.includes('active') && !${member}.includes('standby')`);
    assert.equal(await status(), 'active');
    assert.equal(page.dialogs.length, 1, 'activating asks nothing');
    assert.deepEqual(page.problems, []);
  });

  it("an action's 404 (a model a reload removed) shows the server's message, not 'the admin API is off'", async () => {
    const message = 'The model `simulated.chat2` does not exist.';
    await page.answer('/mesh/models/simulated.chat2/deactivate', { error: { message, type: 'invalid_request_error', param: null, code: 'model_not_found' } }, 404);
    const clicked = await page.eval<boolean>(`(() => {
      const member = Array.from(document.querySelectorAll('#pool-list .member')).find((m) => m.querySelector('.id').textContent === 'simulated.chat2');
      const button = member && Array.from(member.querySelectorAll('button')).find((b) => b.textContent === 'Deactivate');
      if (!button) return false;
      setTimeout(() => button.click(), 0);
      return true;
    })()`);
    assert.ok(clicked);
    await page.waitFor(`document.getElementById('action-error').textContent !== ''`);
    assert.equal(await page.eval('document.getElementById("action-error").textContent'), `deactivate simulated.chat2: ${message}`);
    assert.equal(await page.eval('document.getElementById("conn").textContent'), 'live', 'still connected: the admin API is on');
    page.problems.length = 0; // the 404 itself is logged as a failed resource load
  });

  it('fits a phone screen, and reopens from the tab without asking for the token again', async () => {
    await page.viewport(390, 844, true);
    await page.reload(); // a new document: the token comes from this tab's sessionStorage
    await page.waitFor('document.getElementById("conn").textContent === "live"');
    assert.equal(await page.eval('window.innerWidth'), 390);
    assert.ok(await page.eval('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling of the page');
    // Every section is on screen and no wider than it (wide tables scroll inside their own box).
    const widths = await page.eval<number[]>(`Array.from(document.querySelectorAll('main > section')).map((s) => s.getBoundingClientRect().right)`);
    assert.equal(widths.length, 5);
    for (const right of widths) assert.ok(right <= 390, `a section ends at ${right}px`);
    // The phone layout stacks the tables' cells: nothing in them needs scrolling sideways either.
    const boxes = await page.eval<string[]>(`Array.from(document.querySelectorAll('.scroll')).filter((b) => b.scrollWidth > b.clientWidth).map((b) => b.parentElement.id + ' ' + b.scrollWidth + '/' + b.clientWidth)`);
    assert.deepEqual(boxes, [], 'boxes wider than the screen');
    assert.deepEqual(page.problems, []);
  });

  it('the figures beside the charts count the last minute, not just the minute that has begun', async () => {
    // Data made by the test (answered in place of /mesh/ui/data): 2 s into a minute, 1 request so far, 60 in
    // the minute before (6 failed). The last minute holds 1 + 58/60 of the 60 and of their errors.
    const at = Date.UTC(2026, 0, 1, 12, 0, 0);
    const data = {
      ...sampleData(),
      decisions: [],
      clients: [],
      time: new Date(at + 2_000).toISOString(),
      series: {
        'text-generation': {
          bucket_ms: 60_000,
          buckets: [
            { at: at - 120_000, requests: 30, errors: 0, p95_ms: 300 },
            { at: at - 60_000, requests: 60, errors: 6, p95_ms: 420 },
            { at, requests: 1, errors: 0, p95_ms: 180 },
          ],
        },
      },
    };
    const crafted = await browser.page();
    await crafted.viewport(1366, 900, false);
    await crafted.answer('/mesh/ui/data', data);
    await crafted.goto(`${server.url}/mesh/ui`);
    await crafted.eval(`document.getElementById('token').value = ${JSON.stringify(ADMIN)}; document.getElementById('login').requestSubmit(); true`);
    await crafted.waitFor('document.getElementById("conn").textContent === "live"');
    const figures = await crafted.eval<string[]>(`Array.from(document.querySelectorAll('#charts .chart .val')).map((v) => v.textContent)`);
    assert.deepEqual(figures, ['59', '9.8%', '180 ms'], 'last minute: 1 + 58 requests, 5.8 of them failed; the latest p95');
    // No decisions and no clients in this data: each table says so in one row across all its columns.
    const empty = await crafted.eval<string[]>(`['decision-rows', 'client-rows'].map((id) => {
      const cell = document.querySelector('#' + id + ' td.empty');
      return cell.textContent + ' ' + cell.colSpan + '/' + cell.closest('table').querySelectorAll('thead th').length;
    })`);
    assert.deepEqual(empty, ['No requests yet. 7/7', 'No clients configured. 3/3']);
    assert.deepEqual(crafted.problems, []);
  });

  it('shows a proxy that went away as disconnected, and goes live again when it is back', async () => {
    const yaml = await config();
    // The tab the test before opened is in front, and a hidden page does not poll: shown, it refreshes at once.
    assert.equal(await page.eval('document.hidden'), true);
    await page.send('Page.bringToFront');
    await page.waitFor('!document.hidden');
    await server.stop();
    await page.waitFor('document.getElementById("conn").textContent === "disconnected"', 15_000); // the next poll, 5 s at most
    server = await startServer({ yaml }, { port: server.port });
    await page.waitFor('document.getElementById("conn").textContent === "live"', 15_000);
    assert.deepEqual(page.problems.filter((p) => !/Failed to load resource|ERR_CONNECTION_REFUSED/.test(p)), [], 'nothing but the refused polls');
    page.problems.length = 0;
  });

  it('forgets the token', async () => {
    await page.eval(`document.getElementById('forget').click(); true`);
    await page.waitFor('!document.getElementById("login").hidden');
    assert.equal(await page.eval('document.getElementById("main").hidden'), true);
    assert.equal(await page.eval('sessionStorage.getItem("modelmesh.admin-token")'), null);
    assert.deepEqual(page.problems, []);
  });
});
