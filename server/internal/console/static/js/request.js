// One request: the conversation, the device then and now, replies, notes,
// assignment and status.

import { get, post, patch, session, enc, canChange } from './api.js';
import * as live from './live.js';
import * as store from './store.js';
import { h, field, select, timeEl, refreshTimes, categoryTag, urgencyTag, statusTag, STATUS, toast, osName } from './util.js';
import { compareTable, hostFacts } from './devstate.js';

function canned(user) {
  const first = (user || '').split(/[ .@_]/)[0];
  const hi = first ? `Hi ${first.charAt(0).toUpperCase() + first.slice(1)}, ` : 'Hi, ';
  return [
    ['Looking into it', `${hi}thanks for letting us know — I'm looking into it now and will get back to you shortly.`],
    ['Try a restart', `${hi}could you try closing the app and opening it again, then tell me if it still happens?`],
    ['Check now?', `${hi}I've made a change on our side. Could you check whether it works for you now?`],
    ['Software: on it', `${hi}happy to help with that software — I'll get it set up for you properly.`],
    ['Resolved', `${hi}this should be sorted now. If anything is still not right, just reply here and I'll pick it up again.`],
  ];
}

function authorName(a) {
  if (!a) return 'Someone';
  return typeof a === 'string' ? a : (a.name || 'Someone');
}

export function renderRequest(main, id) {
  const state = { req: null, then: null, device: null, now: null, telem: null, items: new Map() };
  let closed = false;
  const offs = [];
  main.append(h('p', { class: 'loading', text: 'Opening the request…' }));

  const thread = h('ol', { class: 'thread', id: 'thread', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const head = h('section', { class: 'panel req-head', 'aria-labelledby': 'req-title' });
  const devicePanel = h('section', { class: 'panel', id: 'device-panel', 'aria-labelledby': 'dev-title' });
  const shotPanel = h('div');

  function addItem(item) {
    const key = item.kind + ':' + (item.message_id || item.id);
    if (state.items.has(key)) return;
    state.items.set(key, item);
    drawThread();
  }

  function drawThread() {
    const items = [...state.items.values()].sort((a, b) => new Date(a.created_at) - new Date(b.created_at));
    const first = { kind: 'msg', from_user: true, author: { name: state.req.user || state.req.hostname }, text: state.req.text, created_at: state.req.created_at, first: true };
    thread.replaceChildren(...[first, ...items].map((m) => {
      if (m.kind === 'note') {
        return h('li', { class: 'msg note' },
          h('div', { class: 'who' }, h('span', { class: 'lock', text: 'Internal' }), 'Only technicians see this · ', authorName(m.author), ' · ', timeEl(m.created_at)),
          h('div', { class: 'body', text: m.text }));
      }
      return h('li', { class: 'msg ' + (m.from_user ? 'from-user' : 'from-tech') },
        h('div', { class: 'who' }, authorName(m.author), m.first ? ' asked' : '', ' · ', timeEl(m.created_at)),
        h('div', { class: 'body', text: m.text }));
    }));
  }

  function drawHead() {
    const r = state.req;
    const statusSel = select('status', Object.entries(STATUS), r.status);
    statusSel.id = 'req-status';
    statusSel.addEventListener('change', () => change({ status: statusSel.value }, `Status set to “${STATUS[statusSel.value]}”.`));
    const opts = [['', 'Nobody yet'], [session.tech.id, 'Me']];
    for (const [tid, name] of store.techNames) if (tid !== session.tech.id) opts.push([tid, name]);
    if (r.assignee && !opts.some(([v]) => v === r.assignee)) opts.push([r.assignee, store.techLabel(r.assignee)]);
    const assignSel = select('assignee', opts, r.assignee || '');
    assignSel.id = 'req-assignee';
    assignSel.addEventListener('change', () => change({ assignee: assignSel.value === session.tech.id ? 'me' : assignSel.value }, 'Assignment saved.'));
    const mineBtn = r.assignee === session.tech.id ? null
      : h('button', { class: 'btn', type: 'button', id: 'assign-me', text: 'Assign to me', onclick: () => change({ assignee: 'me', ...(r.status === 'new' ? { status: 'in_progress' } : {}) }, 'It’s yours. The user now sees who’s helping them.') });
    head.replaceChildren(
      h('p', { class: 'small' }, h('a', { href: '#/queue', text: '← Back to the queue' })),
      h('h1', { id: 'req-title', class: 'visually-hidden', text: 'Request from ' + (r.user || r.hostname) }),
      h('p', { class: 'text', id: 'req-text', text: r.text }),
      h('div', { class: 'meta' }, categoryTag(r.category), urgencyTag(r.urgency), statusTag(r.status),
        h('span', {}, 'from ', h('b', { text: r.user || 'someone' }), ' on ',
          h('a', { href: '#/devices/' + enc(r.device_id), text: r.hostname }), ', raised ', timeEl(r.created_at)),
        r.rating ? h('span', { text: `· rated ${r.rating}/5${state.ratingComment ? ' — “' + state.ratingComment + '”' : ''}` }) : null),
      canChange() ? h('div', { class: 'controls' }, field('Status', statusSel), field('Who’s on it', assignSel), mineBtn) : null);
  }

  async function change(body, okText) {
    try {
      const r = await patch('/api/v1/requests/' + enc(id), body);
      state.req = { ...state.req, ...(r?.request || r) };
      store.upsert(state.req);
      drawHead();
      toast(okText);
    } catch (e) {
      if (e.status !== 401) toast(e.message, true);
      drawHead();
    }
  }

  function drawDevice() {
    const d = state.device || {};
    devicePanel.replaceChildren(
      h('div', { class: 'page-head' }, h('h2', { id: 'dev-title', style: 'margin:0', text: 'The device' }),
        h('span', { class: 'spacer' }),
        h('button', { class: 'btn quiet small', type: 'button', id: 'fresh-snapshot', text: 'Ask for a fresh snapshot', disabled: !d.online,
          onclick: async () => { try { await post(`/api/v1/devices/${enc(state.req.device_id)}/snapshot`); toast('Asked the device for a fresh snapshot.'); } catch (e) { if (e.status !== 401) toast(e.message, true); } } })),
      h('p', { class: 'muted small', text: `${state.req.hostname} · ${osName(d.os || state.then?.host?.os)}${state.telem ? ' · live figures' : ''}` }),
      compareTable(state.then, state.now, state.telem, !!d.online, d.last_seen),
      h('details', {}, h('summary', { text: 'More about this computer (when raised)' }), hostFacts(state.then)));
  }

  function drawShot() {
    if (!state.hasShot) { shotPanel.replaceChildren(); return; }
    const src = `/api/v1/requests/${enc(id)}/screenshot`;
    const dlg = h('dialog', { id: 'shot-dialog', 'aria-labelledby': 'shot-title' },
      h('div', { class: 'dialog-head' }, h('h2', { id: 'shot-title', style: 'margin:0', text: 'Screenshot the user attached' }),
        h('form', { method: 'dialog' }, h('button', { class: 'btn quiet', text: 'Close' }))),
      h('img', { src, alt: 'Screenshot attached to the request' }));
    shotPanel.replaceChildren(h('section', { class: 'panel', 'aria-labelledby': 'shot-h' },
      h('h2', { id: 'shot-h', text: 'Screenshot' }),
      h('button', { class: 'shot-thumb', type: 'button', id: 'shot-open', 'aria-label': 'View the screenshot larger', onclick: () => dlg.showModal() },
        h('img', { src, alt: 'Screenshot attached to the request (thumbnail)' })),
      dlg));
  }

  function composer() {
    let mode = 'reply';
    const ta = h('textarea', { id: 'reply-text', name: 'text', rows: 4, placeholder: 'Write to ' + (state.req.user || 'the user') + '…' });
    const noteWarn = h('p', { class: 'note-warning', hidden: true, text: 'Internal note — only technicians see this. It is never sent to the user.' });
    const greet = session.tech.greeting ? h('p', { class: 'muted small', id: 'greeting-hint' }, 'They see you as “', session.tech.greeting, '”.') : null;
    const sendBtn = h('button', { class: 'btn', type: 'submit', id: 'send', text: 'Send reply' });
    const tabReply = h('button', { type: 'button', role: 'tab', id: 'tab-reply', 'aria-selected': 'true', 'aria-controls': 'reply-text', text: 'Reply to user' });
    const tabNote = h('button', { type: 'button', role: 'tab', id: 'tab-note', 'aria-selected': 'false', 'aria-controls': 'reply-text', tabindex: '-1', text: 'Internal note' });
    const cannedBox = h('div', { class: 'canned', role: 'group', 'aria-label': 'Friendly replies to start from' },
      canned(state.req.user).map(([label, text]) => h('button', { type: 'button', class: 'btn quiet small', text: label,
        onclick: () => { ta.value = text; ta.focus(); ta.setSelectionRange(text.length, text.length); } })));
    const form = h('form', { class: 'composer', id: 'composer' },
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Write' }, tabReply, tabNote),
      cannedBox, noteWarn,
      h('label', { for: 'reply-text', class: 'visually-hidden', id: 'reply-label', text: 'Your reply' }), ta,
      h('div', { class: 'composer-foot' }, greet || h('span'), sendBtn));
    const setMode = (m) => {
      mode = m;
      const note = m === 'note';
      form.classList.toggle('note-mode', note);
      tabReply.setAttribute('aria-selected', String(!note));
      tabNote.setAttribute('aria-selected', String(note));
      tabReply.tabIndex = note ? -1 : 0;
      tabNote.tabIndex = note ? 0 : -1;
      noteWarn.hidden = !note;
      cannedBox.hidden = note;
      sendBtn.textContent = note ? 'Save note' : 'Send reply';
      document.getElementById('reply-label').textContent = note ? 'Internal note' : 'Your reply';
      ta.placeholder = note ? 'Notes for the team…' : 'Write to ' + (state.req.user || 'the user') + '…';
    };
    tabReply.addEventListener('click', () => setMode('reply'));
    tabNote.addEventListener('click', () => setMode('note'));
    form.querySelector('[role=tablist]').addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight') return;
      const next = mode === 'note' ? tabReply : tabNote;
      next.click();
      next.focus();
    });
    ta.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit(); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const text = ta.value.trim();
      if (!text) { ta.focus(); return; }
      sendBtn.disabled = true;
      try {
        if (mode === 'note') {
          const n = await post(`/api/v1/requests/${enc(id)}/notes`, { text });
          addItem({ kind: 'note', ...n });
          toast('Note saved. Only technicians see it.');
        } else {
          const m = await post(`/api/v1/requests/${enc(id)}/messages`, { text });
          addItem({ kind: 'msg', ...m });
          toast('Reply sent.');
        }
        ta.value = '';
      } catch (e) {
        if (e.status !== 401) toast(e.message, true);
      } finally {
        sendBtn.disabled = false;
      }
    });
    return form;
  }

  async function telemetry(on) {
    if (!state.req) return;
    try { await post(`/api/v1/devices/${enc(state.req.device_id)}/telemetry`, { on, interval_ms: 2000 }); } catch { /* offline devices can't stream */ }
  }

  async function loadDevice() {
    try {
      const d = await get('/api/v1/devices/' + enc(state.req.device_id));
      state.device = d;
      state.now = d.snapshot || null;
    } catch { /* device may be revoked */ }
    if (!closed) drawDevice();
  }

  (async () => {
    let data;
    try {
      data = await get('/api/v1/requests/' + enc(id));
    } catch (e) {
      if (e.status !== 401) main.replaceChildren(h('p', { class: 'notice', text: e.message }), h('a', { href: '#/queue', text: 'Back to the queue' }));
      return;
    }
    if (closed) return;
    state.req = data.request;
    state.then = data.snapshot || null;
    state.hasShot = !!data.screenshot;
    state.ratingComment = data.rating_comment || '';
    if (data.assignee?.id) store.techNames.set(data.assignee.id, data.assignee.name);
    for (const m of data.messages || []) state.items.set('msg:' + m.message_id, { kind: 'msg', ...m });
    for (const n of data.notes || []) state.items.set('note:' + n.id, { kind: 'note', ...n });
    drawHead();
    drawThread();
    drawDevice();
    drawShot();
    main.replaceChildren(h('div', { class: 'grid-2' },
      h('div', {}, head, h('section', { class: 'panel', 'aria-labelledby': 'conv-title' },
        h('h2', { id: 'conv-title', text: 'Conversation' }), thread, canChange() ? composer() : h('p', { class: 'muted small', id: 'read-only', text: 'Your role reads requests; it cannot reply or change them.' }))),
      h('div', {}, devicePanel, shotPanel)));
    const dev = state.req.device_id;
    offs.push(
      live.on('device.message', (m) => { if (m.request_id === id) addItem({ kind: 'msg', ...m }); }),
      live.on('request.updated', (r) => { if (r.request_id === id) { state.req = { ...state.req, ...r }; drawHead(); } }),
      live.on('presence', (p) => { if (p.device_id === dev) { state.device = { ...state.device, online: p.online, last_seen: p.at }; if (p.online) telemetry(true); else state.telem = null; drawDevice(); } }),
      live.on('device.snapshot', (s) => { if (s.device_id === dev) { state.now = s.snapshot; drawDevice(); } }),
      live.on('device.telemetry', (t) => { if (t.device_id === dev) { state.telem = t; state.device = { ...state.device, online: true }; drawDevice(); } }),
      live.on('live.open', () => { telemetry(true); loadDevice(); }),
    );
    await loadDevice();
    telemetry(true);
  })();

  const tick = setInterval(() => refreshTimes(main), 30000);
  return () => {
    closed = true;
    clearInterval(tick);
    for (const off of offs) off();
    telemetry(false);
  };
}
