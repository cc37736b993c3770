// The zonelab inspector (docs/inspector.md): the journal as a live timeline (server-sent
// events from /_zonelab/ui/events), each exchange's payloads and diagnosis, the emulator's
// state, and two controls. Plain browser JavaScript: no build step, nothing loaded from
// elsewhere.
'use strict';

(function () {
  const MAX_ROWS = 5000; // the page keeps the newest; the journal has them all
  const STATE_EVERY_MS = 5000;

  const $ = (id) => document.getElementById(id);
  const entries = new Map(); // seq -> entry
  const rowsBySeq = new Map(); // seq -> <tr>
  const byReq = new Map(); // req_id -> [seq]: an app call and its protocol_mismatch share one
  const cursors = new Map(); // "corpid/agentid" -> the newest sync_msg cursor seen
  let lastSeq = 0;
  let selected = 0;
  let source = null;
  let streaming = true;
  let queue = [];
  let flushing = false;
  let stateTimer = 0;
  let lastState = null;

  // ---- small helpers ----

  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') n.className = v;
      else if (k === 'text') n.textContent = v;
      else n.setAttribute(k, v);
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      n.append(c instanceof Node ? c : String(c));
    }
    return n;
  }

  function vtime(ms) {
    const d = new Date(ms);
    return isNaN(d) ? String(ms) : d.toISOString().slice(11, 23);
  }

  function vdate(ms) {
    const d = new Date(ms);
    return isNaN(d) ? String(ms) : d.toISOString().replace('T', ' ').replace('Z', ' UTC');
  }

  // "in 1h 59m" / "2m ago", against the virtual now.
  function relative(ms, now) {
    let s = Math.round((ms - now) / 1000);
    const past = s < 0;
    s = Math.abs(s);
    const parts = [];
    if (s >= 86400) parts.push(Math.floor(s / 86400) + 'd');
    if (s >= 3600) parts.push(Math.floor((s % 86400) / 3600) + 'h');
    if (s >= 60 && s < 86400) parts.push(Math.floor((s % 3600) / 60) + 'm');
    if (s < 3600) parts.push((s % 60) + 's');
    return past ? parts.join(' ') + ' ago' : 'in ' + parts.join(' ');
  }

  function short(s, n) {
    s = String(s);
    return s.length > n ? s.slice(0, n) + '…' : s;
  }

  // A JSON text inside a string (request_data, response_data, a program's response) shown as
  // JSON; anything else as it is.
  function pretty(v) {
    if (typeof v === 'string') {
      const t = v.trim();
      if (t.startsWith('{') || t.startsWith('[')) {
        try {
          return JSON.stringify(JSON.parse(t), null, 2);
        } catch (e) {
          /* not JSON after all */
        }
      }
      return v;
    }
    return JSON.stringify(v, null, 2);
  }

  // Nested strings that hold JSON, expanded for reading (the wire carries them as strings).
  function expand(v, depth = 0) {
    if (depth > 6) return v;
    if (typeof v === 'string') {
      const t = v.trim();
      if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
        try {
          return expand(JSON.parse(t), depth + 1);
        } catch (e) {
          return v;
        }
      }
      return v;
    }
    if (Array.isArray(v)) return v.map((x) => expand(x, depth + 1));
    if (v && typeof v === 'object') {
      const o = {};
      for (const [k, x] of Object.entries(v)) o[k] = expand(x, depth + 1);
      return o;
    }
    return v;
  }

  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new Error(`${method} ${path}: the emulator does not answer (${e.message})`);
    }
    let json = null;
    try {
      json = await res.json();
    } catch (e) {
      throw new Error(`${method} ${path}: HTTP ${res.status}, not JSON`);
    }
    if (!res.ok || json.ok === false) {
      throw new Error(`${method} ${path}: HTTP ${res.status}: ${json.error || 'refused'}`);
    }
    return json;
  }

  // ---- what an entry is about ----

  function errcodeOf(e) {
    if (typeof e.errcode === 'number') return e.errcode;
    if (e.response && typeof e.response === 'object' && typeof e.response.errcode === 'number')
      return e.response.errcode;
    return null;
  }

  function failed(e) {
    const code = errcodeOf(e);
    return (code !== null && code !== 0) || e.kind === 'protocol_mismatch' || !!e.error;
  }

  function requestField(e, name) {
    return e.request && typeof e.request === 'object' ? e.request[name] : undefined;
  }

  function summary(e) {
    const bits = [];
    const add = (...xs) => {
      for (const x of xs) if (x !== undefined && x !== null && x !== '') bits.push(String(x));
    };
    switch (`${e.face}/${e.kind}`) {
      case 'app/call':
        add(e.endpoint, requestField(e, 'ability_id'), requestField(e, 'program_id'));
        if (e.agentid) add(`agentid ${e.agentid}`);
        if (requestField(e, 'notify_id')) add(`notify_id ${short(requestField(e, 'notify_id'), 12)}`);
        break;
      case 'app/protocol_mismatch':
        add(e.ability_id, e.path, '—', e.diagnosis);
        break;
      case 'sdk/invoke':
        add(e.api, e.instance, e.outcome && e.outcome !== 'answered' ? e.outcome : '');
        break;
      case 'program/call':
        add(e.ability_id, '→', e.instance, e.is_async ? 'async' : '');
        if (e.elapsed_ms !== undefined) add(`${e.elapsed_ms} ms`);
        break;
      case 'program/event':
        add(e.event && e.event.event_type, '→', e.program_id);
        break;
      case 'program/event_result':
        add(`event #${e.event_seq}`, e.instance, e.status ? `HTTP ${e.status}` : '');
        break;
      case 'program/log':
        add(e.level, e.instance, e.file ? `${e.file}:${e.line}` : '', '—', e.text);
        break;
      case 'callback/program_notify':
        add(`notify_id ${e.notify_id}`, '→', e.target, e.outcome);
        break;
      case 'control/clock':
        add(`${vdate(e.from_ms)} → ${vdate(e.to_ms)}`, `(+${Math.round((e.to_ms - e.from_ms) / 1000)} s)`);
        break;
      case 'control/archive':
        add(e.msgid, e.in_scope ? 'in scope' : 'out of scope');
        break;
      default:
        for (const k of ['endpoint', 'api', 'ability_id', 'program_id', 'instance', 'msgid', 'event_type', 'action', 'verb', 'model', 'jobid', 'outcome']) {
          if (typeof e[k] === 'string' || typeof e[k] === 'number') add(e[k]);
        }
    }
    if (e.error) add('—', e.error);
    return bits.join(' ');
  }

  function diagnosisFor(e) {
    if (e.diagnosis) return e;
    const seqs = e.req_id ? byReq.get(e.req_id) || [] : [];
    for (const s of seqs) {
      const o = entries.get(s);
      if (o && o !== e && o.diagnosis) return o;
    }
    return null;
  }

  // ---- the timeline ----

  function rowFor(e) {
    const code = errcodeOf(e);
    const tr = el(
      'tr',
      { 'data-seq': e.seq, class: failed(e) ? 'fail' : null },
      el('td', { text: e.seq }),
      el('td', { text: vtime(e.t), title: vdate(e.t) }),
      el('td', {}, el('span', { class: `face face-${e.face}`, text: e.face })),
      el('td', { text: e.kind }),
      el('td', { class: 'what', text: summary(e) }),
      el('td', { class: 'code', text: code === null ? '' : code })
    );
    tr.dataset.text = JSON.stringify(e).toLowerCase();
    return tr;
  }

  function matches(tr) {
    if ($('failures').checked && !tr.classList.contains('fail')) return false;
    const f = $('filter').value.trim().toLowerCase();
    return !f || (tr.dataset.text || '').includes(f);
  }

  function applyFilter() {
    for (const tr of $('rows').children) tr.hidden = !matches(tr);
  }

  // Lines a program logs outside any request share the SDK's default req_id: not one request.
  function grouped(e) {
    return !!e.req_id && !/^0+$/.test(e.req_id);
  }

  function remember(e) {
    entries.set(e.seq, e);
    if (grouped(e)) {
      if (!byReq.has(e.req_id)) byReq.set(e.req_id, []);
      byReq.get(e.req_id).push(e.seq);
    }
    if (e.face === 'sdk' && e.api === 'sync_msg' && e.response && e.response.next_cursor) {
      cursors.set(`${e.corpid}/${e.agentid}`, {
        corpid: e.corpid,
        agentid: e.agentid,
        program_id: e.program_id,
        cursor: e.response.next_cursor,
        has_more: e.response.has_more,
        seq: e.seq,
        t: e.t,
      });
    }
  }

  function forget(seq) {
    const e = entries.get(seq);
    entries.delete(seq);
    if (e && grouped(e) && byReq.has(e.req_id)) {
      const left = byReq.get(e.req_id).filter((s) => s !== seq);
      if (left.length) byReq.set(e.req_id, left);
      else byReq.delete(e.req_id);
    }
    const tr = rowsBySeq.get(seq);
    if (tr) tr.remove();
    rowsBySeq.delete(seq);
  }

  // Rows go in once per frame, however fast entries arrive.
  function flush() {
    flushing = false;
    const scroller = $('timeline-scroll');
    const frag = document.createDocumentFragment();
    for (const item of queue) {
      let tr;
      if (item.gap) {
        tr = el('tr', { class: 'gap' }, el('td', { colspan: 6, text: `entries ${item.gap.from}–${item.gap.to} are no longer in the journal` }));
      } else {
        tr = rowFor(item);
        rowsBySeq.set(item.seq, tr);
      }
      tr.hidden = !matches(tr);
      frag.append(tr);
    }
    queue = [];
    $('rows').append(frag);
    while (entries.size > MAX_ROWS) forget(entries.keys().next().value);
    $('count').textContent = `${entries.size} shown, last #${lastSeq}`;
    if ($('follow').checked) scroller.scrollTop = scroller.scrollHeight;
  }

  function enqueue(item) {
    queue.push(item);
    if (!flushing) {
      flushing = true;
      requestAnimationFrame(flush);
    }
  }

  function onEntry(e) {
    if (typeof e.seq !== 'number' || e.seq <= lastSeq) return; // a replay we already have
    lastSeq = e.seq;
    remember(e);
    enqueue(e);
    if (e.face !== 'control' || e.kind !== 'start') scheduleState(300);
  }

  // ---- one exchange ----

  function section(title, value) {
    return [el('h3', { text: title }), el('pre', { text: pretty(value) })];
  }

  function showDetail(seq) {
    const e = entries.get(seq);
    if (!e) return;
    selected = seq;
    for (const tr of $('rows').querySelectorAll('tr.selected')) tr.classList.remove('selected');
    const tr = rowsBySeq.get(seq);
    if (tr) tr.classList.add('selected');
    $('detail-title').textContent = `Exchange #${e.seq}: ${e.face} ${e.kind}`;
    const box = $('detail');
    box.replaceChildren();
    const code = errcodeOf(e);
    const d = diagnosisFor(e);
    if (d) {
      box.append(
        el('div', { class: 'diagnosis', id: 'diagnosis' },
          el('div', { text: d.diagnosis }),
          el('div', { class: 'muted', text: `errcode ${d.errcode} at ${d.path}: expected ${d.expected}, got ${d.actual}` + (d !== e ? ` (entry #${d.seq})` : '') }))
      );
    } else if (failed(e)) {
      const why = e.error || e.detail || (e.response && e.response.errmsg) || 'failed';
      box.append(el('div', { class: 'diagnosis', id: 'diagnosis' }, el('div', { text: `errcode ${code === null ? '?' : code}: ${why}` })));
    }
    const dl = el('dl', { class: 'kv' });
    const facts = [['virtual time', vdate(e.t)], ['face', e.face], ['kind', e.kind]];
    for (const k of ['endpoint', 'api', 'ability_id', 'program_id', 'instance', 'corpid', 'agentid', 'req_id', 'notify_id', 'level', 'status', 'elapsed_ms', 'outcome', 'errcode']) {
      if (e[k] !== undefined && typeof e[k] !== 'object') facts.push([k, e[k]]);
    }
    for (const [k, v] of facts) dl.append(el('dt', { text: k }), el('dd', { text: v }));
    box.append(dl);
    if (e.request !== undefined) box.append(...section('request (decrypted)', expand(e.request)));
    if (e.response !== undefined) box.append(...section('response (decrypted)', expand(e.response)));
    if (e.event !== undefined) box.append(...section('event', expand(e.event)));
    if (e.xml !== undefined) box.append(...section('xml (decrypted)', e.xml));
    const related = (grouped(e) && byReq.get(e.req_id)) || [];
    // the program's log lines written for this request (the SDK puts its req_id in each)
    const logs = related.map((s) => entries.get(s)).filter((o) => o && o !== e && o.face === 'program' && o.kind === 'log');
    if (logs.length) {
      const text = logs.map((o) => `${o.level} ${o.instance} ${o.file}:${o.line} ${o.text}`).join('\n');
      box.append(el('h3', { text: `log lines of this request (${logs.length})` }), el('pre', { id: 'detail-logs', text }));
    }
    if (related.length > 1) {
      const p = el('p', {}, 'same request: ');
      for (const s of related) {
        if (s === e.seq) continue;
        const a = el('a', { href: '#', 'data-seq': s, text: `#${s} ${entries.get(s).kind}` });
        a.addEventListener('click', (ev) => {
          ev.preventDefault();
          showDetail(s);
        });
        p.append(a, ' ');
      }
      box.append(p);
    }
    box.append(...section('journal entry', e));
  }

  // ---- the state panel ----

  function table(headers, rows) {
    if (!rows.length) return el('p', { class: 'muted', text: 'none' });
    const t = el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { text: h })))));
    const b = el('tbody');
    for (const r of rows) b.append(el('tr', {}, ...r.map((c) => (c instanceof Node ? el('td', {}, c) : el('td', { text: c === undefined || c === null ? '' : c })))));
    t.append(b);
    return t;
  }

  function expiry(ms, now) {
    return el('span', { class: ms <= now ? 'expired' : null, title: vdate(ms), text: relative(ms, now) });
  }

  function renderState(s, models) {
    lastState = s;
    const now = s.clock.now_ms;
    const body = $('state-body');
    const out = [];
    $('head-clock').textContent = `virtual now ${vdate(now)}`;
    $('head-version').textContent = s.version ? `zonelab ${s.version}` : '';
    out.push(el('h3', { text: 'clock' }));
    out.push(el('dl', { class: 'kv' },
      el('dt', { text: 'now' }), el('dd', { id: 'state-clock', 'data-now-ms': now, text: vdate(now) }),
      el('dt', { text: 'offset' }), el('dd', { id: 'state-offset', text: `${Math.round(s.clock.offset_ms / 1000)} s` }),
      el('dt', { text: 'journal' }), el('dd', { text: `last #${s.journal.last}, dropped ${s.journal.dropped}` })));
    if (s.live) {
      out.push(el('h3', { text: 'live' }));
      out.push(el('p', { id: 'state-live', text: Object.entries(s.live).map(([k, v]) => `${k} ${v}`).join(', ') }));
    }
    if (s.programs) {
      out.push(el('h3', { text: 'programs and replicas' }));
      const rows = [];
      for (const p of s.programs) for (const r of p.replicas) rows.push([p.program_id, r.instance, r.port, r.pid || '', r.running ? 'running' : r.pid ? 'exited' : 'not started by zonelab']);
      out.push(table(['program', 'instance', 'port', 'pid', ''], rows));
      const dl = $('program-ids');
      dl.replaceChildren(...s.programs.map((p) => el('option', { value: p.program_id })));
    }
    if (s.apps) {
      out.push(el('h3', { text: 'apps' }));
      out.push(table(['corpid', 'agentid', 'kind', 'receive_program'], s.apps.map((a) => [a.corpid, a.agentid, a.kind, a.receive_program || '—'])));
    }
    if (s.notify_ids) {
      out.push(el('h3', { text: `notify ids (${s.live ? s.live.notify_ids : s.notify_ids.length})` }));
      out.push(table(['notify_id', 'program', 'replica', 'agentid', 'expires'], s.notify_ids.map((n) => [n.notify_id, n.program_id, n.instance || 'unknown', n.agentid, expiry(n.expires_ms, now)])));
    }
    if (s.access_tokens) {
      out.push(el('h3', { text: `access tokens (${s.live ? s.live.access_tokens : s.access_tokens.length})` }));
      out.push(table(['token', 'agentid', 'expires'], s.access_tokens.map((t) => [short(t.access_token, 14), t.agentid, expiry(t.expires_ms, now)])));
    }
    if (s.event_tokens) {
      out.push(el('h3', { text: `event tokens (${s.live ? s.live.event_tokens : s.event_tokens.length})` }));
      out.push(table(['token', 'agentid', 'expires'], s.event_tokens.map((t) => [short(t.token, 14), t.agentid, expiry(t.expires_ms, now)])));
    }
    if (s.jobs) {
      out.push(el('h3', { text: `async jobs (${s.live ? s.live.jobs : s.jobs.length})` }));
      out.push(table(['jobid', 'program', 'ability', 'state', 'created'], s.jobs.map((j) => [short(j.jobid, 14), j.program_id, j.ability_id, j.state + (j.response_errcode ? ` ${j.response_errcode}` : ''), relative(j.created_ms, now)])));
    }
    if (models && models.tasks) {
      out.push(el('h3', { text: `model tasks (${models.tasks.length})` }));
      out.push(table(['jobid', 'model', 'phase', 'errcode', 'due'], models.tasks.slice(-100).reverse().map((t) => [short(t.jobid, 14), t.model, t.phase, t.errcode === undefined ? '' : t.errcode, t.due_ms ? expiry(t.due_ms, now) : ''])));
    }
    out.push(el('h3', { text: 'sync_msg cursors (newest next_cursor per app, from the timeline)' }));
    out.push(table(['app', 'program', 'next_cursor', 'has_more', 'at'], [...cursors.values()].map((c) => [`${c.agentid}`, c.program_id, short(c.cursor, 18), c.has_more, `#${c.seq}`])));
    body.replaceChildren(...out);
  }

  async function refreshState() {
    stateTimer = 0;
    try {
      const s = await api('GET', '/_zonelab/state');
      let models = null;
      if (s.programs) {
        try {
          models = await api('GET', '/_zonelab/models');
        } catch (e) {
          models = null; // an emulator without models: the rest still shows
        }
      }
      renderState(s, models);
    } catch (e) {
      $('state-body').replaceChildren(el('p', { class: 'muted', text: e.message }));
    }
  }

  function scheduleState(ms) {
    if (stateTimer) return;
    stateTimer = setTimeout(refreshState, ms);
  }

  // ---- the controls ----

  function status(text, ok) {
    const p = $('control-status');
    p.textContent = text;
    p.className = ok ? 'ok' : 'error';
  }

  async function advanceClock(ev) {
    ev.preventDefault();
    const n = Number($('advance-seconds').value);
    if (!Number.isInteger(n) || n < 1) {
      status('advance: give a whole number of seconds (1 or more)', false);
      return;
    }
    try {
      const c = await api('POST', '/_zonelab/clock', { advance: n });
      status(`clock advanced by ${n} s to ${vdate(c.now_ms)}`, true);
    } catch (e) {
      status(e.message, false);
    }
    refreshState();
  }

  async function pushEvent(ev) {
    ev.preventDefault();
    let event;
    try {
      event = JSON.parse($('ev-json').value);
    } catch (e) {
      status(`event JSON does not parse: ${e.message}`, false);
      return;
    }
    const body = { event };
    const program = $('ev-program').value.trim();
    const agent = $('ev-agentid').value.trim();
    if (program) body.program_id = program;
    if (agent) {
      if (!/^[0-9]+$/.test(agent)) {
        status('agentid must be a number', false);
        return;
      }
      body.agentid = Number(agent);
    }
    try {
      const r = await api('POST', '/_zonelab/events', body);
      status(`event sent to ${r.program_id} (agentid ${r.agentid}); its delivery shows in the timeline`, true);
    } catch (e) {
      status(e.message, false);
    }
  }

  // ---- the stream ----

  function setConn(state, text) {
    const c = $('conn');
    c.dataset.state = state;
    c.textContent = text || state;
  }

  function connect() {
    if (source) source.close();
    const url = '/_zonelab/ui/events' + (lastSeq ? `?since=${lastSeq}` : '');
    source = new EventSource(url);
    source.onopen = () => setConn('live', streaming ? 'live' : 'live (reconnecting stream)');
    source.onmessage = (m) => {
      try {
        onEntry(JSON.parse(m.data));
      } catch (e) {
        /* not an entry */
      }
    };
    source.addEventListener('hello', (m) => {
      const h = JSON.parse(m.data);
      streaming = h.streaming !== false;
      setConn('live', streaming ? 'live' : 'live (reconnecting stream)');
    });
    source.addEventListener('gap', (m) => enqueue({ gap: JSON.parse(m.data) }));
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // refused (503: too many pages) or not an event stream: try again, from where we are
        setConn('offline', 'offline, retrying');
        setTimeout(connect, 3000);
      } else if (streaming) {
        setConn('connecting', 'reconnecting');
      }
    };
  }

  function start() {
    $('rows').addEventListener('click', (ev) => {
      const tr = ev.target.closest('tr[data-seq]');
      if (tr) showDetail(Number(tr.dataset.seq));
    });
    $('filter').addEventListener('input', applyFilter);
    $('failures').addEventListener('change', applyFilter);
    $('clock-form').addEventListener('submit', advanceClock);
    $('event-form').addEventListener('submit', pushEvent);
    $('refresh').addEventListener('click', () => refreshState());
    setInterval(() => scheduleState(0), STATE_EVERY_MS);
    refreshState();
    connect();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
  window.zonelabInspector = { entries, get lastSeq() { return lastSeq; }, get selected() { return selected; }, get state() { return lastState; } };
})();
