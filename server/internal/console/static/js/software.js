// Software: the registry IT keeps of what is installed across the desks.
// The list (with the amnesty figures on top: software that came in from
// the cold, people thanked), a title page where IT decides — approved,
// under review, not for work with a kind reason and an alternative — and
// the link from a "Software I use or need" request to its title.

import { get, api, enc, canChange } from './api.js';
import * as live from './live.js';
import { h, field, select, timeEl, toast, debounce } from './util.js';
import { emptyRow } from './store.js';

export const SW_STATUS = {
  new: 'New',
  under_review: 'Under review',
  approved: 'Approved',
  not_for_work: 'Not for work',
};
export const SOURCES = {
  windows: 'Windows',
  macos: 'macOS app',
  dpkg: 'Debian package',
  rpm: 'RPM package',
  flatpak: 'Flatpak',
  snap: 'Snap',
  'user-app': 'User app (Linux)',
};
const ANSWER = { work: 'Yes, for work', personal: 'It’s personal', never: 'Don’t ask again' };
const PAGE = 100;

export function swStatusTag(s) {
  return h('span', { class: 'tag sw-' + s, text: SW_STATUS[s] || s });
}
const num = (n) => (n || 0).toLocaleString();

// filters outlive the page, so coming back from a title keeps the view.
const filters = { status: '', newWeek: false, perUser: false, source: '', q: '' };

function query(extra = {}) {
  const p = new URLSearchParams();
  if (filters.status) p.set('status', filters.status);
  if (filters.newWeek) p.set('new', '7');
  if (filters.perUser) p.set('per_user', '1');
  if (filters.source) p.set('source', filters.source);
  if (filters.q.trim()) p.set('q', filters.q.trim());
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}

function figure(id, n, label, hint) {
  return h('li', { class: 'figure', id }, h('b', { text: num(n) }), h('span', { text: label }), hint ? h('span', { class: 'small muted', text: hint }) : null);
}

export function renderSoftware(main) {
  const figs = h('ul', { class: 'figures', id: 'sw-figures', 'aria-label': 'Software amnesty figures' });
  const statusSel = select('status', [['', 'Any status'], ...Object.entries(SW_STATUS)], filters.status);
  statusSel.id = 'sw-status';
  const sourceSel = select('source', [['', 'Any source'], ...Object.entries(SOURCES)], filters.source);
  sourceSel.id = 'sw-source';
  const newWeek = h('input', { type: 'checkbox', id: 'sw-new', checked: filters.newWeek });
  const perUser = h('input', { type: 'checkbox', id: 'sw-peruser', checked: filters.perUser });
  const search = h('input', { type: 'search', id: 'sw-q', name: 'q', value: filters.q, placeholder: 'Name or publisher…', autocomplete: 'off' });
  const csv = h('a', { class: 'btn quiet', id: 'sw-csv', href: '/api/v1/software?format=csv', download: '', text: 'Export CSV' });
  const tbody = h('tbody', { id: 'sw-body' }, emptyRow(8, 'Loading…'));
  const shown = h('p', { class: 'muted small', id: 'sw-shown', 'aria-live': 'polite' });
  const more = h('button', { class: 'btn quiet', type: 'button', id: 'sw-more', text: 'Show more', hidden: true });
  let titles = [];

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Software' }), h('span', { class: 'spacer' }), csv),
    h('p', { class: 'muted', text: 'What is installed across the desks, and what IT decided about it. People who tell IT about an app they use for work are thanked, never blamed.' }),
    figs,
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the software', onsubmit: (e) => e.preventDefault() },
      field('Status', statusSel), field('Source', sourceSel), field('Search', search),
      h('div', { class: 'checks' },
        h('label', { class: 'checkbox', for: 'sw-new' }, newWeek, 'New this week'),
        h('label', { class: 'checkbox', for: 'sw-peruser' }, perUser, 'Installed per user'))),
    h('section', { class: 'panel', 'aria-labelledby': 'sw-title', style: 'padding:0' },
      h('h2', { id: 'sw-title', class: 'visually-hidden', text: 'Software titles' }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'software' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Name' }), h('th', { scope: 'col', text: 'Publisher' }), h('th', { scope: 'col', text: 'Source' }),
          h('th', { scope: 'col', text: 'Status' }), h('th', { scope: 'col', class: 'num', text: 'Devices' }),
          h('th', { scope: 'col', class: 'num', text: 'Per user' }), h('th', { scope: 'col', class: 'num', text: 'Told IT' }),
          h('th', { scope: 'col', text: 'First seen' }))),
        tbody))),
    h('div', { class: 'row' }, shown, more));

  const row = (t) => h('tr', { 'data-title': t.id },
    h('td', {}, h('a', { class: 'rowlink', href: '#/software/' + enc(t.id), text: t.name })),
    h('td', { class: 'muted', text: t.publisher || '—' }),
    h('td', { text: SOURCES[t.source] || t.source }),
    h('td', {}, swStatusTag(t.status)),
    h('td', { class: 'num', text: num(t.devices) }),
    h('td', { class: 'num', text: t.per_user_devices ? num(t.per_user_devices) : '—' }),
    h('td', { class: 'num', text: t.told ? num(t.told) : '—' }),
    h('td', {}, timeEl(t.first_seen)));

  async function loadFigures() {
    try {
      const f = await get('/api/v1/software/figures');
      figs.replaceChildren(
        figure('fig-came-in', f.came_in_this_month, 'came in from the cold this month', 'approved after someone told IT'),
        figure('fig-thanked', f.thanked_this_month, 'people thanked this month'),
        figure('fig-new', f.new_this_week, 'new this week'),
        figure('fig-unreviewed', f.unreviewed, 'not yet reviewed', `of ${num(f.titles)} titles on ${num(f.devices)} desks`));
    } catch (e) {
      if (e.status !== 401) figs.replaceChildren(h('li', { class: 'error', text: e.message }));
    }
  }

  let seq = 0;
  async function load(append = false) {
    const mine = ++seq;
    csv.href = '/api/v1/software' + query({ format: 'csv' });
    try {
      const p = await get('/api/v1/software' + query({ limit: PAGE, offset: append ? titles.length : 0 }));
      if (mine !== seq) return; // a newer filter won
      titles = append ? [...titles, ...p.titles] : p.titles;
      if (!titles.length) {
        tbody.replaceChildren(emptyRow(8, filters.q || filters.status || filters.newWeek || filters.perUser || filters.source
          ? 'Nothing matches these filters.' : 'No software reported yet. Desks report what is installed when they connect.'));
      } else {
        tbody.replaceChildren(...titles.map(row));
      }
      shown.textContent = `Showing ${num(titles.length)} of ${num(p.total)} titles`;
      more.hidden = titles.length >= p.total;
    } catch (e) {
      if (e.status !== 401) tbody.replaceChildren(emptyRow(8, e.message));
    }
  }

  const onChange = () => {
    filters.status = statusSel.value;
    filters.source = sourceSel.value;
    filters.newWeek = newWeek.checked;
    filters.perUser = perUser.checked;
    filters.q = search.value;
    load();
  };
  for (const el of [statusSel, sourceSel, newWeek, perUser]) el.addEventListener('change', onChange);
  search.addEventListener('input', debounce(onChange, 250));
  more.addEventListener('click', () => load(true));

  load();
  loadFigures();
  // A fleet reporting at once is one reload, not one per event.
  const reload = debounce(() => { load(); loadFigures(); }, 500);
  return live.on('software.updated', reload);
}

export function renderSoftwareTitle(main, id) {
  const body = h('div', { id: 'sw-page' }, h('p', { class: 'loading', text: 'Loading…' }));
  main.append(h('p', { class: 'small' }, h('a', { href: '#/software', text: '← Back to Software' })), body);
  let closed = false;

  async function load() {
    try {
      const p = await get('/api/v1/software/' + enc(id));
      if (!closed) draw(p);
    } catch (e) {
      if (e.status !== 401 && !closed) body.replaceChildren(h('p', { class: 'error', role: 'alert', text: e.message }));
    }
  }

  // The decision form is kept while the title is unchanged, so a live
  // refresh (a count moving, another reload) never throws away what a
  // technician is typing.
  let form = null, formFor = '';
  function draw(p) {
    const t = p.title;
    const key = JSON.stringify(t);
    if (key !== formFor) { form = decisionForm(t, load); formFor = key; }
    const focused = body.contains(document.activeElement) ? document.activeElement.id : '';
    body.replaceChildren(
      h('div', { class: 'page-head' }, h('h1', { id: 'sw-name', text: t.name }), swStatusTag(t.status)),
      h('p', { class: 'muted', id: 'sw-meta' }, [t.publisher || 'Publisher unknown', SOURCES[t.source] || t.source].join(' · '),
        ' · first seen ', timeEl(t.first_seen), ' · last seen ', timeEl(t.last_seen)),
      h('ul', { class: 'counts', 'aria-label': 'About this title' },
        h('li', {}, h('b', { text: num(t.devices) }), ' devices'),
        h('li', {}, h('b', { text: num(t.per_user_devices) }), ' installed per user'),
        h('li', {}, h('b', { text: num(t.told) }), ' told IT'),
        t.came_in_at ? h('li', { id: 'sw-came-in' }, 'Came in from the cold ', timeEl(t.came_in_at)) : null),
      h('div', { class: 'grid-2' },
        h('div', {},
          panel('Who told IT', 'sw-answers', answersTable(p.answers)),
          panel('Status history', 'sw-history', historyList(p.history)),
          panel('Requests about it', 'sw-requests', requestsTable(p.requests)),
          panel('Devices', 'sw-devices', devicesTable(p.devices, t.devices)),
          panel('Versions', 'sw-versions', versionsTable(p.versions))),
        h('div', {}, form)));
    if (focused) document.getElementById(focused)?.focus();
  }

  load();
  const off = live.on('software.updated', (ev) => { if ((ev.titles || []).includes(id)) load(); });
  return () => { closed = true; off(); };
}

function panel(title, id, content) {
  return h('section', { class: 'panel', 'aria-labelledby': id + '-h' }, h('h2', { id: id + '-h', text: title }), h('div', { id }, content));
}

function answersTable(list) {
  if (!list.length) return h('p', { class: 'muted', text: 'Nobody has told IT about it yet.' });
  return h('table', {}, h('thead', {}, h('tr', {}, ['Person', 'Device', 'Said', 'When', 'Thanked'].map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, list.map((a) => h('tr', {},
      h('td', { text: a.user || '—' }),
      h('td', {}, h('a', { href: '#/devices/' + enc(a.device_id), text: a.hostname || a.device_id })),
      h('td', { text: ANSWER[a.answer] || a.answer }),
      h('td', {}, timeEl(a.at)),
      h('td', {}, a.thanked_at ? timeEl(a.thanked_at) : '—')))));
}

function requestsTable(list) {
  if (!list.length) return h('p', { class: 'muted', text: 'No request is linked to it.' });
  return h('ul', { class: 'plain' }, list.map((r) => h('li', {},
    h('a', { href: '#/requests/' + enc(r.id), text: r.text || 'Request' }),
    h('span', { class: 'small muted', text: ` — ${r.user || r.hostname}, ${r.status.replaceAll('_', ' ')}, ` }), timeEl(r.created_at))));
}

function devicesTable(list, total) {
  if (!list.length) return h('p', { class: 'muted', text: 'No desk has it now.' });
  // Versions per desk come from the desks' stored inventories; when none
  // could be read the columns would only say "—".
  const known = list.some((d) => d.version || d.per_user);
  const cols = known ? ['Device', 'Person', 'Version', 'Per user'] : ['Device', 'Person'];
  return [h('table', {}, h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
    h('tbody', {}, list.map((d) => h('tr', {},
      h('td', {}, h('a', { href: '#/devices/' + enc(d.device_id), text: d.hostname || d.device_id })),
      h('td', { text: d.user || '—' }),
      known ? h('td', { text: d.version || '—' }) : null,
      known ? h('td', { text: d.per_user ? 'Yes' : '' }) : null)))),
  total > list.length ? h('p', { class: 'small muted', text: `and ${num(total - list.length)} more` }) : null];
}

function versionsTable(list) {
  if (!list.length) return h('p', { class: 'muted', text: 'No version reported.' });
  return h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Version' }), h('th', { scope: 'col', class: 'num', text: 'Devices' }),
    h('th', { scope: 'col', text: 'Last seen' }))),
  h('tbody', {}, list.map((v) => h('tr', {}, h('td', { text: v.version || '(none)' }), h('td', { class: 'num', text: num(v.devices) }), h('td', {}, timeEl(v.last_seen))))));
}

function historyList(list) {
  if (!list.length) return h('p', { class: 'muted', text: 'Nobody has decided about it yet.' });
  return h('ol', { class: 'plain history' }, list.map((c) => h('li', {},
    h('b', { text: c.by_name || 'Someone' }), ' set it ', swStatusTag(c.to), ' (was ', SW_STATUS[c.from] || c.from, ') ', timeEl(c.at),
    c.reason ? h('div', { class: 'small muted', text: '“' + c.reason + '”' + (c.alternative ? ' — instead: ' + c.alternative : '') }) : null)));
}

// decisionForm is IT's decision about the title; a viewer sees it read-only.
function decisionForm(t, reload) {
  const editing = canChange();
  const radios = Object.entries(SW_STATUS).map(([v, label]) => h('label', { class: 'checkbox' },
    h('input', { type: 'radio', name: 'sw-decision', value: v, id: 'sw-st-' + v, checked: t.status === v, disabled: !editing }), ' ' + label));
  const reason = h('textarea', { id: 'sw-reason', rows: 3, maxlength: 2000, value: t.reason || '', readonly: !editing,
    placeholder: 'We can’t keep it patched, so we ask people not to use it for work data.' });
  const alt = h('input', { type: 'text', id: 'sw-alt', maxlength: 500, value: t.alternative || '', readonly: !editing, placeholder: 'Penpot — in the catalogue' });
  const msg = h('textarea', { id: 'sw-message', rows: 2, maxlength: 2000, readonly: !editing,
    placeholder: 'Optional: your own words for the people who told IT.' });
  const inCat = h('input', { type: 'checkbox', id: 'sw-catalogue', checked: !!t.catalogue, disabled: !editing });
  const how = select('catalogue_how', [['link', 'A download link'], ['package', 'A package name'], ['instructions', 'Instructions']], t.catalogue_how || 'link');
  how.id = 'sw-how';
  how.disabled = !editing;
  const url = h('input', { type: 'url', id: 'sw-url', value: t.catalogue_url || '', readonly: !editing, placeholder: 'https://…' });
  const pkg = h('input', { type: 'text', id: 'sw-package', value: t.catalogue_package || '', readonly: !editing, placeholder: 'org.example.App' });
  const text = h('textarea', { id: 'sw-text', rows: 3, value: t.catalogue_text || '', readonly: !editing });
  const desc = h('input', { type: 'text', id: 'sw-desc', maxlength: 2000, value: t.description || '', readonly: !editing, placeholder: 'What it is for, in a line' });
  const oses = [['windows', 'Windows'], ['darwin', 'macOS'], ['linux', 'Linux']].map(([v, label]) => h('label', { class: 'checkbox' },
    h('input', { type: 'checkbox', name: 'sw-os', value: v, checked: (t.catalogue_os || []).includes(v), disabled: !editing }), ' ' + label));
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const urlField = field('Link', url), pkgField = field('Package', pkg), textField = field('Instructions (Markdown)', text);
  const nfw = h('div', { id: 'sw-nfw' }, field('Why, in kind words', reason, 'The people who told IT read this.'), field('What to use instead', alt));
  const cat = h('fieldset', { class: 'field', id: 'sw-cat' }, h('legend', { text: 'Self-service catalogue' }),
    h('label', { class: 'checkbox', for: 'sw-catalogue' }, inCat, ' List it in the Software window on every desk'),
    h('div', { class: 'row' }, field('How people get it', how), urlField, pkgField), textField, field('Description', desc),
    h('div', { class: 'checks' }, h('span', { class: 'small muted', text: 'For (none ticked: every computer):' }), oses));
  const chosen = () => radios.map((l) => l.querySelector('input')).find((r) => r.checked)?.value || t.status;
  const sync = () => {
    nfw.hidden = chosen() !== 'not_for_work';
    cat.hidden = chosen() !== 'approved';
    urlField.hidden = how.value !== 'link';
    pkgField.hidden = how.value !== 'package';
    textField.hidden = how.value !== 'instructions';
    err.hidden = true;
  };
  for (const l of radios) l.querySelector('input').addEventListener('change', sync);
  how.addEventListener('change', sync);
  sync();

  const form = h('form', { class: 'panel', id: 'sw-form', 'aria-labelledby': 'sw-form-h' },
    h('h2', { id: 'sw-form-h', text: 'IT’s decision' }),
    editing ? null : h('p', { class: 'notice', text: 'Your role can read the registry. Ask a technician to change it.' }),
    err,
    h('fieldset', { class: 'field' }, h('legend', { text: 'Status' }), h('div', { class: 'checks' }, radios)),
    nfw, cat,
    field('Message to the people who told IT', msg, 'Sent with the thank-you (approved) or the note (not for work).'),
    editing ? h('div', { class: 'actions' }, h('button', { class: 'btn', type: 'submit', id: 'sw-save', text: 'Save decision' })) : null);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    const st = chosen();
    const body = { status: st, message: msg.value.trim() };
    if (st === 'not_for_work') { body.reason = reason.value.trim(); body.alternative = alt.value.trim(); }
    if (st === 'approved') {
      body.catalogue = inCat.checked;
      Object.assign(body, { catalogue_how: how.value, catalogue_url: url.value.trim(), catalogue_package: pkg.value.trim(),
        catalogue_text: text.value, description: desc.value.trim(),
        catalogue_os: oses.map((l) => l.querySelector('input')).filter((c) => c.checked).map((c) => c.value) });
    }
    if (st === 'not_for_work' && !body.reason) { err.textContent = 'Say kindly why, so the people who use it understand.'; err.hidden = false; reason.focus(); return; }
    try {
      const r = await api('PATCH', '/api/v1/software/' + enc(t.id), body);
      toast(r.thanked ? `Saved. ${r.thanked} ${r.thanked === 1 ? 'person' : 'people'} who told IT will hear from you.` : 'Saved.');
      reload();
    } catch (ex) {
      if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; }
    }
  });
  return form;
}

// softwareLink is the request view's line for a software request: the
// title it is linked to, and (for staff) a search to link or re-link it.
export function softwareLink(requestID, linked, onChange) {
  const box = h('div', { class: 'sw-link', id: 'req-software' });
  const line = linked
    ? h('p', { class: 'small' }, 'About ', h('a', { href: '#/software/' + enc(linked.id), id: 'req-software-title', text: linked.name }), ' ', swStatusTag(linked.status))
    : h('p', { class: 'small muted', text: 'Not linked to a software title yet.' });
  box.append(line);
  if (!canChange()) return box;
  const q = h('input', { type: 'search', id: 'req-sw-q', placeholder: 'Find the software…', autocomplete: 'off' });
  const pick = h('select', { id: 'req-sw-pick', 'aria-label': 'Software title' }, h('option', { value: '', text: 'Type to search' }));
  const put = async (titleID, okText) => {
    try {
      await api('PUT', '/api/v1/requests/' + enc(requestID) + '/software', { title_id: titleID });
      toast(okText);
      onChange();
    } catch (e) { if (e.status !== 401) toast(e.message, true); }
  };
  q.addEventListener('input', debounce(async () => {
    const s = q.value.trim();
    if (!s) return;
    try {
      const p = await get('/api/v1/software?limit=8&q=' + enc(s));
      pick.replaceChildren(...(p.titles.length ? p.titles.map((t) => h('option', { value: t.id, text: `${t.name}${t.publisher ? ' — ' + t.publisher : ''} (${SOURCES[t.source] || t.source})` }))
        : [h('option', { value: '', text: 'Nothing matches' })]));
    } catch (e) { if (e.status !== 401) toast(e.message, true); }
  }, 250));
  box.append(h('div', { class: 'row' }, field(linked ? 'Re-link to' : 'Link to', q), field('Title', pick),
    h('button', { class: 'btn quiet small', type: 'button', id: 'req-sw-link', text: linked ? 'Re-link' : 'Link',
      onclick: () => { if (pick.value) put(pick.value, 'Linked.'); else toast('Find the software first.', true); } }),
    linked ? h('button', { class: 'btn ghost small', type: 'button', id: 'req-sw-unlink', text: 'Unlink', onclick: () => put('', 'Unlinked.') }) : null));
  return box;
}

