// One request: the conversation, the device then and now, replies, notes,
// assignment and status.

import { get, post, patch, session, enc, canChange } from './api.js';
import * as live from './live.js';
import * as store from './store.js';
import { h, field, select, timeEl, refreshTimes, categoryTag, urgencyTag, statusTag, STATUS, toast, osName } from './util.js';
import { timeLeft } from './sla.js';
import { compareTable, hostFacts } from './devstate.js';
import { startArticle } from './articles.js';
import { softwareLink } from './software.js';

// Saved replies are the team's (GET /api/v1/replies); their placeholders
// are filled for this request before the technician edits and sends.
let repliesCache = null;
async function savedReplies() {
  if (!repliesCache) repliesCache = get('/api/v1/replies').then((d) => d.replies || []).catch(() => { repliesCache = null; return []; });
  return repliesCache;
}
export function forgetReplies() { repliesCache = null; }

export function fillReply(text, req) {
  const first = (req.user || '').split(/[ .@_]/)[0];
  const vars = {
    first_name: first ? first.charAt(0).toUpperCase() + first.slice(1) : 'there',
    technician: session.tech?.greeting || session.tech?.name || '',
    device: req.hostname || 'your computer',
  };
  return text.replace(/\{\{\s*(first_name|technician|device)\s*\}\}/g, (_, k) => vars[k]);
}

function authorName(a) {
  if (!a) return 'Someone';
  return typeof a === 'string' ? a : (a.name || 'Someone');
}

export function renderRequest(main, id) {
  const state = { req: null, then: null, device: null, now: null, telem: null, hasShot: false, items: new Map(), shown: [] };
  let closed = false;
  const offs = [];
  main.append(h('p', { class: 'loading', text: 'Opening the request…' }));

  // The thread is not a live region itself: it is built once and new items
  // are appended, while a separate status region says "New message from …"
  // once per arrival (a rebuilt live region is read out again in full).
  const thread = h('ol', { class: 'thread', id: 'thread', 'aria-label': 'Conversation' });
  const arrivals = h('p', { class: 'visually-hidden', id: 'thread-status', role: 'status' });
  const head = h('section', { class: 'panel req-head', 'aria-labelledby': 'req-title' });
  const devicePanel = h('section', { class: 'panel', id: 'device-panel', 'aria-labelledby': 'dev-title' });
  const shotPanel = h('div');
  let threadDrawn = false;

  const itemKey = (item) => item.kind + ':' + (item.message_id || item.id);

  // addItem adds a message or note once (the live echo of one's own post and
  // the post's answer carry the same id); announce says it arrived live.
  function addItem(item, announce = false) {
    const key = itemKey(item);
    if (state.items.has(key)) return;
    state.items.set(key, item);
    if (!threadDrawn) return;
    const li = itemEl(item);
    // Keep time order: insert before the first later item (a reply that
    // crossed another usually lands last).
    const at = new Date(item.created_at).getTime();
    const later = [...thread.children].find((el) => !el.dataset.first && Number(el.dataset.at) > at);
    thread.insertBefore(li, later || null);
    if (announce) {
      const who = item.from_user ? (item.author?.name || state.req.user || state.req.hostname) : authorName(item.author);
      arrivals.textContent = item.kind === 'note' ? `New internal note from ${who}` : `New message from ${who}`;
    }
  }

  function itemEl(m) {
    let li;
    if (m.kind === 'note') {
      li = h('li', { class: 'msg note' },
        h('div', { class: 'who' }, h('span', { class: 'lock', text: 'Internal' }), 'Only technicians see this · ', authorName(m.author), ' · ', timeEl(m.created_at)),
        h('div', { class: 'body', text: m.text }));
    } else {
      li = h('li', { class: 'msg ' + (m.from_user ? 'from-user' : 'from-tech') },
        h('div', { class: 'who' }, authorName(m.author), m.first ? ' asked' : '', ' · ', timeEl(m.created_at)),
        h('div', { class: 'body', text: m.text }),
        !m.from_user && canChange() ? h('button', { type: 'button', class: 'btn ghost small to-article', text: 'Turn this reply into an article',
          onclick: () => startArticle(articleFrom(m)) }) : null);
    }
    li.dataset.at = String(new Date(m.created_at).getTime());
    if (m.first) li.dataset.first = '1';
    return li;
  }

  // articleFrom pre-fills an article from the thread: the person's question
  // as the title, this reply (without the greeting) as the answer, and
  // the device's OS. IT edits it before publishing.
  function articleFrom(m) {
    const q = (state.req.text || '').split('\n')[0].trim();
    const title = q.length > 90 ? q.slice(0, 87).replace(/\s+\S*$/, '') + '…' : q;
    const body = (m.text || '').replace(/^(hi|hello|hey)\b[^,\n]*,\s*/i, '');
    const os = state.device?.os || state.then?.host?.os;
    return { title, body: body.charAt(0).toUpperCase() + body.slice(1), os: os ? [os] : [], tags: [state.req.category].filter(Boolean) };
  }

  function drawThread() {
    const items = [...state.items.values()].sort((a, b) => new Date(a.created_at) - new Date(b.created_at));
    const first = { kind: 'msg', from_user: true, author: { name: state.req.user || state.req.hostname }, text: state.req.text, created_at: state.req.created_at, first: true };
    thread.replaceChildren(...[first, ...items].map(itemEl));
    threadDrawn = true;
  }

  // fromOthers is true for a live item someone else wrote: one's own post
  // is confirmed by its toast, not announced again.
  function fromOthers(item) {
    if (item.kind === 'note') return item.technician_id !== session.tech.id;
    return item.from_user || authorName(item.author) !== session.tech.name;
  }
  function liveItem(item) {
    if (item.request_id === id) addItem(item, fromOthers(item));
  }

  function drawHead() {
    const r = state.req;
    const focused = head.contains(document.activeElement) ? document.activeElement.id : '';
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
        slaLine(r),
        r.rating ? h('span', { id: 'req-rating', text: `· rated ${r.rating}/5${r.rating_comment ? ' — “' + r.rating_comment + '”' : ''}` }) : null),
      // replaceChildren is the DOM's own: it would print a null.
      ...(state.shown.length ? [h('p', { class: 'shown-articles muted', id: 'req-shown' }, 'Suggested before they asked: ',
        state.shown.map((a, i) => [i ? ', ' : '', a.title ? h('a', { href: '#/articles/' + enc(a.id), text: a.title }) : 'an article since deleted']))] : []),
      ...(r.category === 'software' ? [softwareLink(id, state.software, catchUp)] : []),
      ...(canChange() ? [h('div', { class: 'controls' }, field('Status', statusSel), field('Who’s on it', assignSel), mineBtn)] : []));
    // A change arriving live (another technician) redraws the head; the
    // control in use keeps the focus.
    if (focused) document.getElementById(focused)?.focus();
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
    const use = (r) => { const text = fillReply(r.body, state.req); ta.value = text; pick.hidden = true; ta.focus(); ta.setSelectionRange(text.length, text.length); };
    const cannedBox = h('div', { class: 'canned', id: 'saved-replies', role: 'group', 'aria-label': 'Saved replies to start from (type / in the reply to search them)' });
    const pick = h('div', { class: 'replies-pick', id: 'replies-pick', role: 'listbox', 'aria-label': 'Saved replies matching what you typed', hidden: true });
    savedReplies().then((rs) => cannedBox.replaceChildren(...rs.slice(0, 6).map((r) =>
      h('button', { type: 'button', class: 'btn quiet small', text: r.title, onclick: () => use(r) }))));
    // "/" at the start of the reply searches the saved replies by title
    // and text; Enter takes the first match, Escape closes the list.
    let matches = [];
    ta.addEventListener('input', async () => {
      const v = ta.value;
      if (mode !== 'reply' || !v.startsWith('/') || v.includes('\n')) { pick.hidden = true; return; }
      const q = v.slice(1).trim().toLowerCase();
      matches = (await savedReplies()).filter((r) => !q || (r.title + ' ' + r.body).toLowerCase().includes(q)).slice(0, 8);
      pick.replaceChildren(...(matches.length ? matches.map((r, i) => h('button', { type: 'button', role: 'option', 'aria-selected': String(i === 0),
        class: 'btn quiet small', onclick: () => use(r) }, h('b', { text: r.title }), ' — ', fillReply(r.body, state.req).slice(0, 80))) :
        [h('p', { class: 'muted small', text: 'No saved reply matches.' })]));
      pick.hidden = false;
    });
    ta.addEventListener('keydown', (e) => {
      if (pick.hidden) return;
      if (e.key === 'Enter' && !e.ctrlKey && !e.metaKey && matches.length) { e.preventDefault(); use(matches[0]); }
      if (e.key === 'Escape') { pick.hidden = true; }
    });
    const form = h('form', { class: 'composer', id: 'composer' },
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Write' }, tabReply, tabNote),
      cannedBox, noteWarn, pick,
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
      // The button disables itself while it has the focus, which would drop
      // the focus to <body>: it goes back to the text box afterwards.
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
        if (document.activeElement === document.body || document.activeElement === sendBtn) ta.focus();
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

  // apply takes a request as GET /api/v1/requests/{id} answers it; items
  // new to the view are announced when announce is set.
  function apply(data, announce = false) {
    state.req = { ...data.request, rating_comment: data.rating_comment || '' };
    state.then = data.snapshot || null;
    state.hasShot = !!data.screenshot;
    state.shown = data.shown_articles || [];
    state.software = data.software || null;
    if (data.assignee?.id) store.techNames.set(data.assignee.id, data.assignee.name);
    for (const m of data.messages || []) { const it = { kind: 'msg', ...m }; addItem(it, announce && fromOthers(it)); }
    for (const n of data.notes || []) { const it = { kind: 'note', ...n }; addItem(it, announce && fromOthers(it)); }
  }

  const dev = () => state.req?.device_id;
  // Listen before the first fetch, so a change made meanwhile is not lost
  // (items are kept by id, so one seen twice shows once).
  offs.push(
    live.on('device.message', (m) => liveItem({ kind: 'msg', ...m })),
    // A technician's reply or note names the item; fetch it unless it is
    // already here (one's own post).
    live.on('request.thread', (it) => {
      if (it.request_id === id && state.req && !state.items.has((it.item === 'note' ? 'note:' : 'msg:') + it.id)) catchUp();
    }),
    live.on('request.updated', (r) => { if (r.request_id === id && state.req) { state.req = { ...state.req, ...r }; drawHead(); } }),
    live.on('presence', (p) => { if (state.req && p.device_id === dev()) { state.device = { ...state.device, online: p.online, last_seen: p.at }; if (p.online) telemetry(true); else state.telem = null; drawDevice(); } }),
    live.on('device.snapshot', (s) => { if (state.req && s.device_id === dev()) { state.now = s.snapshot; drawDevice(); } }),
    live.on('device.telemetry', (t) => { if (state.req && t.device_id === dev()) { state.telem = t; state.device = { ...state.device, online: true }; drawDevice(); } }),
    // After a reconnect, catch up on what was said while the link was down.
    live.on('live.open', () => { if (state.req) { telemetry(true); loadDevice(); catchUp(); } }),
  );

  // catchUp fetches the request and adds what the view lacks. Calls while
  // one is in flight fold into one more fetch after it.
  let fetching = null, again = false;
  async function catchUp() {
    if (fetching) { again = true; return fetching; }
    fetching = (async () => {
      do {
        again = false;
        try {
          const data = await get('/api/v1/requests/' + enc(id));
          if (closed) return;
          apply(data, true);
          drawHead();
        } catch { /* the next event or reconnect tries again */ }
      } while (again && !closed);
    })();
    try { await fetching; } finally { fetching = null; }
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
    apply(data);
    drawHead();
    drawThread();
    drawDevice();
    drawShot();
    main.replaceChildren(h('div', { class: 'grid-2' },
      h('div', {}, head, h('section', { class: 'panel', 'aria-labelledby': 'conv-title' },
        h('h2', { id: 'conv-title', text: 'Conversation' }), thread, arrivals, canChange() ? composer() : h('p', { class: 'muted small', id: 'read-only', text: 'Your role reads requests; it cannot reply or change them.' }))),
      h('div', {}, devicePanel, shotPanel)));
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

// slaLine is the request's response target in words ("· first answer:
// 1 h 20 min left"), or nothing when it has none.
function slaLine(r) {
  const tl = timeLeft(r);
  if (tl.state === 'none') return null;
  const words = tl.state === 'paused' ? 'response clock paused while waiting on them' : `${tl.kind}: ${tl.text.toLowerCase()}`;
  return h('span', { id: 'req-sla', class: 'tl-' + tl.state, title: tl.title || null, text: '· ' + words });
}
