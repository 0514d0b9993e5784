// The status page (issue 17): one HTML document with inline CSS and JS, no build step and no external URL,
// so it works air-gapped. The document holds no data and may be served without the admin token; everything
// it shows comes from token-protected JSON (GET <base>/ui/data, see observability/ui-data.ts) and its buttons
// call the admin API (POST <base>/models|providers/{id}/activate|deactivate). The token is typed into the
// page, kept in sessionStorage (or only in memory), and sent as `Authorization: Bearer`; never in a URL.
//
// The script builds the DOM with textContent (model names and reasons are upstream text: never parsed as
// HTML); only the charts are markup, and they contain nothing but numbers it computed. The inline script and
// style are pinned by hash in the Content-Security-Policy, so no 'unsafe-inline' is needed.
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.ts';
import { PAGE_STYLE } from './page-style.ts';

export interface StatusPageOptions {
  /** Where the admin API lives. @default '/mesh' */
  base?: string;
  /** Refresh period, ms. @default 5_000 */
  pollMs?: number;
}

export interface StatusPage {
  html: string;
  headers: Record<string, string>;
}

const BASE = /^(\/[A-Za-z0-9._~-]+)+$/;

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** default-src 'none' and only what the page uses: its own hashed script and style, fetch to its origin. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_STYLE)}`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const STATUS_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': STATUS_PAGE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const BODY = `
<header>
  <h1>ModelMesh</h1>
  <span id="conn" class="pill">not connected</span>
  <span id="updated" class="muted"></span>
  <button id="forget" type="button" class="link" hidden>Forget token</button>
</header>
<form id="login" autocomplete="off">
  <label for="token">Admin token</label>
  <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
  <label class="check"><input id="remember" type="checkbox" checked> keep it for this tab</label>
  <button type="submit">Open</button>
  <p id="login-error" class="error" role="alert"></p>
</form>
<main id="main" hidden>
  <p id="action-error" class="error" role="alert"></p>
  <section id="pools"><h2>Pools</h2><div id="pool-list" class="grid"></div></section>
  <section id="traffic"><h2>Traffic <small id="window" class="muted"></small></h2><div id="charts" class="grid"></div></section>
  <section id="providers"><h2>Providers and budgets</h2><div class="scroll"><table>
    <thead><tr><th>Provider</th><th>State</th><th>Spend today</th><th>Spend this month</th><th></th></tr></thead>
    <tbody id="provider-rows"></tbody></table></div></section>
  <section id="clients"><h2>Clients</h2><div class="scroll"><table>
    <thead><tr><th>Client</th><th>Usage against limits</th><th>Since start</th></tr></thead>
    <tbody id="client-rows"></tbody></table></div></section>
  <section id="decisions"><h2>Last routing decisions</h2><div class="scroll"><table>
    <thead><tr><th>Time</th><th>Requested</th><th>Answered by</th><th>Attempts</th><th>Status</th><th>Latency</th><th>Client</th></tr></thead>
    <tbody id="decision-rows"></tbody></table></div></section>
</main>`;

export function statusPage(options: StatusPageOptions = {}): StatusPage {
  const base = options.base ?? '/mesh';
  if (!BASE.test(base)) throw new Error(`status page base must be a plain absolute path like /mesh, got ${JSON.stringify(base)}`);
  const poll = Math.max(1_000, Math.round(options.pollMs ?? 5_000));
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>ModelMesh status</title>
<style>${PAGE_STYLE}</style>
</head>
<body data-base="${base}" data-poll="${poll}">${BODY}
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
  return { html, headers: { ...STATUS_PAGE_HEADERS } };
}
