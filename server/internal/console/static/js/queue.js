// The queue: every request, live, with filters and counts.

import * as store from './store.js';
import { h, field, select, timeEl, refreshTimes, categoryTag, urgencyTag, statusTag, CATEGORY, URGENCY, STATUS } from './util.js';
import { session } from './api.js';
import { timeLeft, timeLeftCell } from './sla.js';

// Filters survive moving between pages in one session.
const filters = { status: 'open', category: '', urgency: '', mine: false, unassigned: false, sort: '' };

function matches(r) {
  if (filters.status === 'open' && r.status === 'resolved') return false;
  if (filters.status && filters.status !== 'open' && filters.status !== 'all' && r.status !== filters.status) return false;
  if (filters.category && r.category !== filters.category) return false;
  if (filters.urgency && r.urgency !== filters.urgency) return false;
  if (filters.mine && r.assignee !== session.tech.id) return false;
  if (filters.unassigned && r.assignee) return false;
  return true;
}

// Blocking first, then newest.
function order(a, b) {
  const open = (r) => r.status !== 'resolved';
  if (open(a) !== open(b)) return open(a) ? -1 : 1;
  if ((a.urgency === 'blocking') !== (b.urgency === 'blocking') && open(a)) return a.urgency === 'blocking' ? -1 : 1;
  return new Date(b.created_at) - new Date(a.created_at);
}

export function renderQueue(main) {
  const statusSel = select('status', [['open', 'All open'], ['all', 'Everything'], ...Object.entries(STATUS)], filters.status);
  const catSel = select('category', [['', 'Any kind'], ...Object.entries(CATEGORY)], filters.category);
  const urgSel = select('urgency', [['', 'Any urgency'], ...Object.entries(URGENCY)], filters.urgency);
  const mine = h('input', { type: 'checkbox', id: 'f-mine', checked: filters.mine });
  const unassigned = h('input', { type: 'checkbox', id: 'f-unassigned', checked: filters.unassigned });
  const counts = h('ul', { class: 'counts', id: 'counts', 'aria-label': 'Requests by status' });
  const tbody = h('tbody', { id: 'queue-body' });
  const shown = h('p', { class: 'muted small', id: 'queue-shown', 'aria-live': 'polite' });
  // "Time left" sorts the most urgent first; a second click goes back to
  // the usual order (blocking first, then newest).
  const sortBtn = h('button', { type: 'button', class: 'th-sort', id: 'sort-time-left', text: 'Time left',
    onclick: () => { filters.sort = filters.sort === 'time' ? '' : 'time'; draw(); } });
  const timeTh = h('th', { scope: 'col', id: 'th-time-left' }, sortBtn);

  const onChange = () => {
    filters.status = statusSel.value;
    filters.category = catSel.value;
    filters.urgency = urgSel.value;
    filters.mine = mine.checked;
    filters.unassigned = unassigned.checked;
    if (filters.mine && filters.unassigned) {
      // The two cannot both hold; the one just ticked wins.
      if (document.activeElement === mine) { unassigned.checked = false; filters.unassigned = false; } else { mine.checked = false; filters.mine = false; }
    }
    draw();
  };
  for (const el of [statusSel, catSel, urgSel, mine, unassigned]) el.addEventListener('change', onChange);

  const soundBox = h('input', { type: 'checkbox', id: 'sound', checked: store.soundOn(), onchange: (e) => { store.setSound(e.target.checked); if (e.target.checked) store.beep(); } });
  const notifyBtn = ('Notification' in window && Notification.permission === 'default')
    ? h('button', { class: 'btn quiet small', type: 'button', text: 'Turn on desktop notifications',
      onclick: async (e) => { await Notification.requestPermission(); e.target.remove(); } })
    : null;

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Queue' }),
      h('span', { class: 'spacer' }),
      h('label', { class: 'checkbox', for: 'sound' }, soundBox, 'Sound for “blocking my work”'),
      notifyBtn),
    counts,
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the queue', onsubmit: (e) => e.preventDefault() },
      field('Status', statusSel), field('Kind', catSel), field('Urgency', urgSel),
      h('div', { class: 'checks' },
        h('label', { class: 'checkbox', for: 'f-mine' }, mine, 'Assigned to me'),
        h('label', { class: 'checkbox', for: 'f-unassigned' }, unassigned, 'Unassigned'))),
    h('section', { class: 'panel', 'aria-labelledby': 'queue-title', style: 'padding:0' },
      h('h2', { id: 'queue-title', class: 'visually-hidden', text: 'Requests' }),
      h('table', { class: 'queue' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Request' }), h('th', { scope: 'col', text: 'From' }),
          h('th', { scope: 'col', text: 'Kind' }), h('th', { scope: 'col', text: 'Urgency' }),
          h('th', { scope: 'col', text: 'Status' }), h('th', { scope: 'col', text: 'Who’s on it' }),
          h('th', { scope: 'col', text: 'Raised' }), timeTh)),
        tbody)),
    shown);

  function row(r, fresh) {
    return h('tr', { class: (r.urgency === 'blocking' && r.status !== 'resolved' ? 'blocking ' : '') + (fresh ? 'fresh' : ''), 'data-id': r.request_id },
      h('td', { class: 'clip' }, h('a', { class: 'rowlink', href: '#/requests/' + encodeURIComponent(r.request_id), text: r.text })),
      h('td', { style: 'white-space:nowrap' }, r.user || '—', h('div', { class: 'muted small', text: r.hostname })),
      h('td', {}, categoryTag(r.category)),
      h('td', {}, urgencyTag(r.urgency)),
      h('td', {}, statusTag(r.status)),
      h('td', { text: store.techLabel(r.assignee) }),
      h('td', {}, timeEl(r.created_at)),
      timeLeftCell(r));
  }

  function drawCounts() {
    const c = {};
    for (const r of store.requests.values()) c[r.status] = (c[r.status] || 0) + 1;
    counts.replaceChildren(...Object.entries(STATUS).map(([k, label]) =>
      h('li', { 'data-status': k }, label + ' ', h('b', { text: String(c[k] || 0) }))));
  }

  function draw(freshId) {
    drawCounts();
    const now = Date.now();
    const byTime = (a, b) => timeLeft(a, now).sort - timeLeft(b, now).sort || order(a, b);
    const list = [...store.requests.values()].filter(matches).sort(filters.sort === 'time' ? byTime : order);
    timeTh.setAttribute('aria-sort', filters.sort === 'time' ? 'ascending' : 'none');
    sortBtn.textContent = filters.sort === 'time' ? 'Time left ▲' : 'Time left';
    if (!store.isLoaded()) tbody.replaceChildren(store.emptyRow(8, 'Loading the queue…'));
    else if (!list.length) tbody.replaceChildren(store.emptyRow(8, store.requests.size ? 'Nothing matches these filters.' : 'No requests yet. When someone asks for help, it shows up here at once.'));
    else tbody.replaceChildren(...list.map((r) => row(r, r.request_id === freshId)));
    shown.textContent = `Showing ${list.length} of ${store.requests.size} requests.`;
  }

  draw();
  const off = store.subscribe((ev) => draw(ev.kind === 'created' ? ev.request.request_id : undefined));
  // Every 30 s the times move on: "Raised" words and the time left (the
  // rows are redrawn only when the order or a cell's words changed).
  const tick = setInterval(() => { refreshTimes(main); refreshTimeLeft(); }, 30000);
  function refreshTimeLeft() {
    if (filters.sort === 'time') { draw(); return; }
    for (const tr of tbody.querySelectorAll('tr[data-id]')) {
      const r = store.requests.get(tr.dataset.id);
      const old = tr.querySelector('td.time-left');
      if (!r || !old) continue;
      const cell = timeLeftCell(r);
      if (cell.textContent !== old.textContent) old.replaceWith(cell);
    }
  }
  return () => { off(); clearInterval(tick); };
}
