// A real headless Chromium for tests of the status page (issue 17 point 1), driven over the DevTools
// protocol on a pipe (--remote-debugging-pipe: JSON messages ending in NUL on fds 3 and 4, so no WebSocket
// client is needed). When no browser is installed, the tests needing one skip, with one visible line for
// the whole run saying how to install it (skip-line.ts).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { skipLineOnce } from './skip-line.ts';

/** CHROMIUM overrides the binary (e.g. a path that does not exist, to see the skip path). */
const CANDIDATES = process.env['CHROMIUM'] !== undefined ? [process.env['CHROMIUM']] : ['chromium', 'chromium-browser', 'google-chrome'];
const SKIP_LINE = 'chromium not installed: apt-get install -y chromium (browser tests of the status page skipped)';

/** How long one DevTools command may take (page loads are awaited by polling, not by one command). */
const CALL_TIMEOUT_MS = 15_000;

let found: string | null | undefined;

function binary(): string | null {
  if (found !== undefined) return found;
  found = CANDIDATES.find((b) => spawnSync(b, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0) ?? null;
  if (found === null) skipLineOnce('chromium', SKIP_LINE);
  return found;
}

/** `{ skip }` for node:test: false when a browser is available, else the reason. */
export function skipWithoutBrowser(): { skip: string | false } {
  return { skip: binary() === null ? 'chromium not installed' : false };
}

export interface CdpEvent {
  method: string;
  params: Record<string, unknown>;
  sessionId?: string;
}

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (err: Error) => void;
}

/** One headless browser process; pages are opened with page(). */
export class Browser {
  readonly #child: ChildProcess;
  readonly #profile: string;
  readonly #out: Writable;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners: ((e: CdpEvent) => void)[] = [];
  #id = 0;
  #stderr = '';

  private constructor(child: ChildProcess, profile: string) {
    this.#child = child;
    this.#profile = profile;
    this.#out = child.stdio[3] as Writable;
    const input = child.stdio[4] as Readable;
    let buffered = Buffer.alloc(0);
    input.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (let end = buffered.indexOf(0); end >= 0; end = buffered.indexOf(0)) {
        const message = JSON.parse(buffered.subarray(0, end).toString('utf8')) as { id?: number; result?: Record<string, unknown>; error?: unknown } & CdpEvent;
        buffered = buffered.subarray(end + 1);
        const waiting = message.id === undefined ? undefined : this.#pending.get(message.id);
        if (waiting !== undefined && message.id !== undefined) {
          this.#pending.delete(message.id);
          if (message.error !== undefined) waiting.reject(new Error(`CDP: ${JSON.stringify(message.error)}`));
          else waiting.resolve(message.result ?? {});
        } else if (message.method !== undefined) for (const listener of this.#listeners) listener(message);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr = (this.#stderr + chunk.toString()).slice(-4000)));
    const gone = (why: string): void => {
      for (const p of this.#pending.values()) p.reject(new Error(`browser ${why}:\n${this.#stderr}`));
      this.#pending.clear();
    };
    child.once('exit', () => gone('exited'));
    child.once('error', (err) => gone(`failed: ${err.message}`));
  }

  static launch(): Browser {
    const bin = binary();
    if (bin === null) throw new Error(SKIP_LINE);
    const profile = mkdtempSync(join(tmpdir(), 'modelmesh-chromium-'));
    const child = spawn(bin, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
      '--disable-extensions', '--disable-background-networking', '--remote-debugging-pipe',
      `--user-data-dir=${profile}`, 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    return new Browser(child, profile);
  }

  /** One DevTools command; rejects on an error answer, or after CALL_TIMEOUT_MS without one (a hung browser). */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`CDP ${method}: no answer in ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      const settle = <T>(fn: (v: T) => void) => (v: T): void => {
        clearTimeout(timer);
        fn(v);
      };
      this.#pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      this.#out.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  }

  on(listener: (e: CdpEvent) => void): void {
    this.#listeners.push(listener);
  }

  /** A new tab, attached (flat session), with the Page, Runtime, Log and Network domains on. */
  async page(): Promise<Page> {
    const { targetId } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(this, sessionId as string);
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await page.send(`${domain}.enable`);
    return page;
  }

  /** Browser.close (its helper processes exit with it), SIGKILL after 5 s; then the profile is removed. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      const exited = new Promise((resolve) => this.#child.once('exit', resolve));
      const kill = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      this.send('Browser.close').catch(() => this.#child.kill('SIGKILL'));
      await exited;
      clearTimeout(kill);
    }
    // A helper process may still be writing its last files there for a moment.
    rmSync(this.#profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
  }
}

/** The fields of the events Page reads (all optional: each event has its own). */
interface Params {
  exceptionDetails?: { text?: string; exception?: { description?: string } };
  type?: string;
  args?: { value?: unknown; description?: string }[];
  entry?: { level?: string; text?: string };
  request?: { url?: string };
  requestId?: string;
  message?: string;
}

/** One tab: what it logged, every URL it requested, and helpers to drive it. */
export class Page {
  readonly #browser: Browser;
  readonly #session: string;
  /** Uncaught exceptions, console errors and warnings, and browser log errors (CSP violations among them). */
  readonly problems: string[] = [];
  /** Every URL the page requested (the document, fetches). */
  readonly requests: string[] = [];
  /** The dialogs it opened (confirm texts), each accepted. */
  readonly dialogs: string[] = [];
  /** URL suffix → the status and JSON text answered instead of the server (answer()). */
  readonly #answers = new Map<string, { status: number; body: string }>();

  constructor(browser: Browser, session: string) {
    this.#browser = browser;
    this.#session = session;
    browser.on((e) => {
      if (e.sessionId === session) this.#event(e.method, e.params as Params);
    });
  }

  #event(method: string, p: Params): void {
    if (method === 'Runtime.exceptionThrown') {
      this.problems.push(`exception: ${String(p.exceptionDetails?.exception?.description ?? p.exceptionDetails?.text)}`);
    } else if (method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'warning')) {
      this.problems.push(`console.${String(p.type)}: ${(p.args ?? []).map((a) => String(a.value ?? a.description)).join(' ')}`);
    } else if (method === 'Log.entryAdded' && (p.entry?.level === 'error' || p.entry?.level === 'warning')) {
      this.problems.push(`log: ${String(p.entry.text)}`); // CSP violations are reported here
    } else if (method === 'Network.requestWillBeSent') {
      this.requests.push(String(p.request?.url));
    } else if (method === 'Fetch.requestPaused') {
      const url = String(p.request?.url);
      const answer = [...this.#answers].find(([suffix]) => url.endsWith(suffix))?.[1];
      if (answer === undefined) void this.send('Fetch.continueRequest', { requestId: p.requestId });
      else {
        void this.send('Fetch.fulfillRequest', {
          requestId: p.requestId, responseCode: answer.status,
          responseHeaders: [{ name: 'content-type', value: 'application/json' }], body: Buffer.from(answer.body).toString('base64'),
        });
      }
    } else if (method === 'Page.javascriptDialogOpening') {
      this.dialogs.push(String(p.message));
      void this.send('Page.handleJavaScriptDialog', { accept: true });
    }
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.#browser.send(method, params, this.#session);
  }

  /**
   * Answers every request whose URL ends with `suffix` with `json` (`status`, application/json) instead of
   * the server: the page then renders data a test made (the Fetch domain pauses each such request).
   */
  async answer(suffix: string, json: unknown, status = 200): Promise<void> {
    this.#answers.set(suffix, { status, body: JSON.stringify(json) });
    await this.send('Fetch.enable', { patterns: [...this.#answers.keys()].map((s) => ({ urlPattern: `*${s}` })) });
  }

  /** Viewport in CSS pixels; `mobile` also turns on the mobile meta-viewport handling. */
  async viewport(width: number, height: number, mobile: boolean): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }

  /** Navigates and waits until the new document has loaded (not the one before it, still complete). */
  async goto(url: string): Promise<void> {
    await this.send('Page.navigate', { url });
    await this.waitFor(`location.href === ${JSON.stringify(url)} && document.readyState === "complete"`);
  }

  /** Reloads and waits until a new document has loaded: the old one is marked and must be gone. */
  async reload(): Promise<void> {
    await this.eval('window.__beforeReload = true');
    await this.send('Page.reload');
    await this.waitFor('!window.__beforeReload && document.readyState === "complete"');
  }

  /** The value of a JS expression in the page (promises awaited). */
  async eval<T>(expression: string): Promise<T> {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    const details = r['exceptionDetails'] as Params['exceptionDetails'];
    if (details !== undefined) throw new Error(`in the page: ${details.exception?.description ?? details.text ?? 'error'}`);
    return (r['result'] as { value: T }).value;
  }

  /** Polls `expression` until it is truthy (every 50 ms, up to `timeoutMs`). */
  async waitFor(expression: string, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await this.eval<boolean>(`Boolean(${expression})`))) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${expression}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
