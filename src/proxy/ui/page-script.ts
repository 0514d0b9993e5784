// The status page's script (inline, hashed in the CSP). Plain ES2020 in a string: no template literals and
// no line comments inside it (the page test forbids any `//` in the document, which also keeps out
// protocol-relative URLs). Every value from the server goes into the DOM as textContent; the only markup built
// from data is the chart SVG, made of numbers only.
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var body = document.body;
  var BASE = body.getAttribute('data-base') || '/mesh';
  var POLL = Number(body.getAttribute('data-poll')) || 5000;
  var KEY = 'modelmesh.admin-token';
  var token = null;
  var timer = null;
  var $ = function (id) { return document.getElementById(id); };

  function h(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }
  function fmt(n, digits) { return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits === undefined ? 1 : digits }); }
  function usd(n) { return '$' + Number(n).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 4 }); }
  function until(iso) {
    if (!iso) return '';
    var s = Math.round((Date.parse(iso) - Date.now()) / 1000);
    if (!isFinite(s)) return '';
    if (s <= 0) return 'ending now';
    if (s < 90) return 'for ' + s + ' s';
    if (s < 5400) return 'for ' + Math.round(s / 60) + ' min';
    return 'until ' + new Date(iso).toLocaleString();
  }
  function pill(text, kind) { return h('span', 'pill ' + kind, text); }
  /* A table's one row saying it is empty, across all its columns. */
  function emptyRow(tbody, text) {
    var td = h('td', 'empty', text);
    td.colSpan = tbody.parentElement.querySelectorAll('thead th').length || 1;
    return add(h('tr'), td);
  }

  function loadToken() {
    try { token = sessionStorage.getItem(KEY); } catch (e) { token = null; }
  }
  function saveToken(value, remember) {
    token = value;
    try { if (remember) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY); } catch (e) { }
  }
  function forget(message) {
    token = null;
    try { sessionStorage.removeItem(KEY); } catch (e) { }
    if (timer) clearTimeout(timer);
    timer = null;
    $('main').hidden = true;
    $('login').hidden = false;
    $('forget').hidden = true;
    $('token').value = '';
    $('login-error').textContent = message || '';
    setConn('not connected', '');
  }
  function setConn(text, kind) { var c = $('conn'); c.textContent = text; c.className = 'pill ' + kind; }

  function call(method, path) {
    return fetch(BASE + path, {
      method: method, cache: 'no-store', credentials: 'omit', redirect: 'error',
      headers: { authorization: 'Bearer ' + token, accept: 'application/json' }
    }).then(function (res) {
      if (res.status === 401 || res.status === 403) { forget('The token was refused (HTTP ' + res.status + ').'); throw new Error('auth'); }
      /* Only the data call's 404 means the admin API is off; an action's says what it did not find (a model a reload removed). */
      if (res.status === 404 && path === '/ui/data') throw new Error('The admin API is off (HTTP 404): set proxy.admin.tokens.');
      return res.json().then(function (json) {
        if (!res.ok) throw new Error((json && json.error && json.error.message) || ('HTTP ' + res.status));
        return json;
      });
    });
  }

  function refresh() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!token) return;
    call('GET', '/ui/data').then(function (data) {
      $('login').hidden = true;
      $('main').hidden = false;
      $('forget').hidden = false;
      setConn('live', 'ok');
      $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
      render(data);
    }).catch(function (err) {
      if (err.message === 'auth') return;
      setConn('disconnected', 'bad');
      $('updated').textContent = err.message;
    }).then(function () {
      if (token && !document.hidden) timer = setTimeout(refresh, POLL);
    });
  }

  function act(kind, id, action) {
    if (action === 'deactivate' && !confirm('Take ' + id + ' out of rotation until it is activated again?')) return;
    $('action-error').textContent = '';
    call('POST', '/' + kind + '/' + encodeURIComponent(id) + '/' + action).then(refresh, function (err) {
      if (err.message !== 'auth') $('action-error').textContent = action + ' ' + id + ': ' + err.message;
    });
  }
  function actionButton(kind, id, active) {
    var action = active ? 'deactivate' : 'activate';
    var b = h('button', active ? 'danger' : '', active ? 'Deactivate' : 'Activate');
    b.type = 'button';
    b.addEventListener('click', function () { act(kind, id, action); });
    return b;
  }

  function render(data) {
    renderPools(data.pools || []);
    renderCharts(data.series || {}, Date.parse(data.time) || Date.now());
    renderProviders(data.providers || []);
    renderClients(data.clients || []);
    renderDecisions(data.decisions || []);
  }

  function stateOf(m) {
    if (m.available) return pill('active', 'ok');
    if (m.status === 'active') return pill('provider down', 'warn');
    return pill(m.manual ? 'standby (manual)' : 'standby', 'bad');
  }

  function renderPools(pools) {
    var list = clear($('pool-list'));
    if (pools.length === 0) add(list, h('p', 'empty', 'No pools configured.'));
    pools.forEach(function (p) {
      var card = h('div', 'card');
      var head = add(h('div', 'card-head'), h('h3', '', p.name), h('span', 'muted', p.strategy),
        pill(p.available + ' of ' + p.members.length + ' available', p.available === 0 ? 'bad' : (p.standby > 0 ? 'warn' : 'ok')));
      add(card, head);
      p.members.forEach(function (m) {
        var why = m.reason ? m.reason + (m.until ? ' ' + until(m.until) : '') : (m.provider ? 'provider ' + m.provider : '');
        add(card, add(h('div', 'member'), h('span', 'id', m.id),
          add(h('span', 'acts'), stateOf(m), actionButton('models', m.id, m.status === 'active')),
          h('span', 'why', why)));
      });
      add(list, card);
    });
  }

  function spark(values, cls) {
    var W = 120, H = 34, max = 0;
    values.forEach(function (v) { if (v > max) max = v; });
    var step = values.length > 1 ? W / (values.length - 1) : W;
    var pts = values.map(function (v, i) {
      var x = (i * step).toFixed(1);
      var y = (H - 2 - (max > 0 ? (v / max) * (H - 4) : 0)).toFixed(1);
      return x + ',' + y;
    }).join(' ');
    var wrap = h('div', '');
    wrap.innerHTML = '<svg class="spark" viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="none" aria-hidden="true">' +
      '<polyline class="' + cls + '" points="' + pts + '"></polyline></svg>';
    return wrap;
  }

  /*
   * The figure beside a chart counts the last minute up to now (the server's clock), not the bucket in
   * progress, which reads near 0 just after a minute starts: each bucket counts by the share of it inside
   * the minute (a finished bucket's requests taken as spread over it; the running one has only run till now).
   */
  function lastMinute(buckets, bucketMs, now, pick) {
    var from = now - 60000, total = 0;
    buckets.forEach(function (b) {
      var end = Math.min(b.at + bucketMs, now);
      var overlap = end - Math.max(b.at, from);
      if (end > b.at && overlap > 0) total += pick(b) * Math.min(1, overlap / (end - b.at));
    });
    return total;
  }

  function renderCharts(series, now) {
    var charts = clear($('charts'));
    var names = Object.keys(series);
    if (names.length === 0) { add(charts, h('p', 'empty', 'No traffic yet.')); $('window').textContent = ''; return; }
    names.forEach(function (name) {
      var s = series[name];
      var bucketMs = s.bucket_ms || 60000;
      var perMin = 60000 / bucketMs;
      var req = s.buckets.map(function (b) { return b.requests * perMin; });
      var err = s.buckets.map(function (b) { return b.requests > 0 ? (100 * b.errors) / b.requests : 0; });
      var lat = s.buckets.map(function (b) { return b.p95_ms; });
      var recent = lastMinute(s.buckets, bucketMs, now, function (b) { return b.requests; });
      var recentErrors = lastMinute(s.buckets, bucketMs, now, function (b) { return b.errors; });
      /* p95s do not add up: the latest bucket that has requests. */
      var latest = s.buckets.filter(function (b) { return b.requests > 0; }).pop();
      $('window').textContent = 'last ' + fmt((s.buckets.length * bucketMs) / 60000, 1) + ' min';
      function row(label, values, cls, text) {
        return add(h('div', 'chart'), h('span', 'muted', label), spark(values, cls), h('span', 'val', text));
      }
      add(charts, add(h('div', 'card'), add(h('div', 'card-head'), h('h3', '', name)),
        row('requests/min', req, 'req', fmt(recent)),
        row('errors %', err, 'err', fmt(recent > 0 ? (100 * recentErrors) / recent : 0) + '%'),
        row('p95 latency', lat, 'lat', fmt(latest ? latest.p95_ms : 0, 0) + ' ms')));
    });
  }

  function budgetCell(spend, limit, label) {
    var td = h('td', 'num');
    if (limit === null || limit === undefined) return add(td, document.createTextNode(usd(spend) + ' (no limit) '), h('span', 'muted', label));
    var m = h('meter');
    m.min = 0; m.max = limit; m.value = Math.min(spend, limit); m.high = limit * 0.8; m.optimum = 0;
    return add(td, m, document.createTextNode(' ' + usd(spend) + ' of ' + usd(limit) + ' '), h('span', 'muted', label));
  }

  function renderProviders(providers) {
    var rows = clear($('provider-rows'));
    if (providers.length === 0) add(rows, emptyRow(rows, 'No providers.'));
    providers.forEach(function (p) {
      var state = p.status === 'disabled' ? pill('disabled', 'warn') : (p.status === 'active' ? pill('active', 'ok') : pill('standby', 'bad'));
      var stateCell = add(h('td'), state);
      if (p.reason) add(stateCell, h('div', 'muted', p.reason + (p.until ? ' ' + until(p.until) : '')));
      var b = p.budget;
      add(rows, add(h('tr'), add(h('td'), h('div', '', p.id), h('div', 'muted', p.connector)), stateCell,
        b ? budgetCell(b.spend_daily, b.daily_limit, 'today') : h('td', 'muted', '-'),
        b ? budgetCell(b.spend_monthly, b.monthly_limit, 'this month') : h('td', 'muted', '-'),
        add(h('td'), p.enabled ? actionButton('providers', p.id, p.status === 'active') : null)));
    });
  }

  /* Names of the usage keys of /mesh/ui/data clients (ui-data.ts uiClients); other keys show as they are. */
  var USAGE_LABELS = { rpm: 'requests/min', tpm: 'tokens/min', concurrent: 'in flight', budget_daily: 'spend today', budget_monthly: 'spend this month' };

  function renderClients(clients) {
    var rows = clear($('client-rows'));
    if (clients.length === 0) add(rows, emptyRow(rows, 'No clients configured.'));
    clients.forEach(function (c) {
      var cell = h('td', 'limits');
      var keys = Object.keys(c.limits).concat(Object.keys(c.usage).filter(function (k) { return !(k in c.limits); }));
      keys.forEach(function (k) {
        var used = c.usage[k] || 0, limit = c.limits[k];
        var isMoney = k.indexOf('budget') >= 0 || k.indexOf('spend') >= 0;
        var show = function (n) { return isMoney ? usd(n) : fmt(n, 0); };
        var item = add(h('span', 'usage'), h('span', 'muted', USAGE_LABELS[k] || k));
        if (limit !== null && limit !== undefined && limit > 0) {
          var m = h('meter');
          m.min = 0; m.max = limit; m.value = Math.min(used, limit); m.high = limit * 0.8; m.optimum = 0;
          add(item, m, h('span', '', show(used) + ' of ' + show(limit)));
        } else {
          add(item, h('span', '', show(used) + ' (no limit)'));
        }
        add(cell, item);
      });
      /* Labelled numbers, not bare columns: the phone layout drops the table head. */
      var totals = add(h('td', 'num'), h('span', 'usage', fmt(c.requests || 0, 0) + (c.requests === 1 ? ' request' : ' requests')),
        h('span', 'usage' + (c.errors > 0 ? ' bad' : ''), fmt(c.errors || 0, 0) + ' failed'),
        h('span', 'usage' + (c.rejected > 0 ? ' warn' : ''), fmt(c.rejected || 0, 0) + ' refused'));
      add(rows, add(h('tr'), h('td', '', c.name), cell, totals));
    });
  }

  function renderDecisions(decisions) {
    var rows = clear($('decision-rows'));
    if (decisions.length === 0) add(rows, emptyRow(rows, 'No requests yet.'));
    decisions.forEach(function (d) {
      var tr = h('tr', (d.failovers > 0 ? 'failover ' : '') + (d.outcome === 'failure' ? 'failed' : ''));
      tr.title = d.request_id + (d.error ? ': ' + d.error : '');
      var attempts = h('td');
      d.attempts.forEach(function (a) {
        var code = a.status ? String(a.status) : '';
        var why = a.reason ? (a.reason.indexOf(code) === 0 ? a.reason : code + ' ' + a.reason) : code;
        var text = (a.outcome === 'success' ? '\\u2713 ' : '\\u2717 ') + a.model + ' ' + why + ' (' + fmt(a.latency_ms, 0) + ' ms)';
        add(attempts, h('span', 'attempt ' + (a.outcome === 'success' ? 'ok' : 'fail'), text));
      });
      if (d.attempts.length === 0) add(attempts, h('span', 'muted', d.error || 'no candidate'));
      add(rows, add(tr, h('td', 'num', new Date(d.at).toLocaleTimeString()),
        add(h('td'), h('div', '', d.requested), h('div', 'muted', d.pool || '')),
        add(h('td'), h('div', '', d.model || '-'), h('div', 'muted', d.provider || '')),
        attempts,
        add(h('td', 'num'), d.failovers > 0 ? pill(d.failovers + ' failover' + (d.failovers > 1 ? 's' : ''), 'warn') : null,
          document.createTextNode(' ' + d.status)),
        h('td', 'num', fmt(d.latency_ms, 0) + ' ms'),
        h('td', '', d.client || '')));
    });
  }

  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var value = $('token').value.trim();
    $('token').value = '';
    if (!value) return;
    $('login-error').textContent = '';
    saveToken(value, $('remember').checked);
    refresh();
  });
  $('forget').addEventListener('click', function () { forget(''); });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) refresh(); });
  loadToken();
  if (token) refresh();
})();
`;
