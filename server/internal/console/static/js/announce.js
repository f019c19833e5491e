// Announcements: IT speaking to many desks at once.

import { get, post, enc, canChange } from './api.js';
import * as live from './live.js';
import { h, field, select, timeEl, toast, osName } from './util.js';
import { emptyRow } from './store.js';

const SEVERITY = [['info', 'Information'], ['warning', 'Heads-up'], ['outage', 'Something is down']];

function targetText(t) {
  if (!t || t.kind === 'all' || !t.kind) return 'Everyone';
  if (t.kind === 'group') return 'Group “' + t.value + '”';
  if (t.kind === 'os') return osName(t.value) + ' computers';
  return t.kind + ' ' + (t.value || '');
}

// whoName is "ana (ana-laptop)": the person, and the desk that said it.
function whoName(w) { return w.user && w.hostname ? `${w.user} (${w.hostname})` : (w.user || w.hostname || 'someone'); }

function whoText(list) {
  if (!list || !list.length) return '';
  const names = list.slice(0, 3).map(whoName);
  return names.join(', ') + (list.length > 3 ? ` and ${list.length - 3} more` : '');
}

export function renderAnnouncements(main) {
  const title = h('input', { type: 'text', id: 'ann-title', name: 'title', required: true, maxlength: 120, placeholder: 'Email is slow this morning' });
  const text = h('textarea', { id: 'ann-text', name: 'text', rows: 3, required: true, placeholder: 'We know, and we’re on it. Next update by 11:00.' });
  const sev = select('severity', SEVERITY, 'info');
  const annKind = select('kind', [['news', 'News: something to know'], ['known_problem', 'Known problem: people can say “me too”']], 'news');
  const kind = select('target', [['all', 'Everyone'], ['group', 'A group'], ['os', 'One operating system']], 'all');
  const group = h('input', { type: 'text', id: 'ann-group', name: 'group', placeholder: 'e.g. finance' });
  const os = select('os', [['windows', 'Windows'], ['darwin', 'macOS'], ['linux', 'Linux']], 'windows');
  const groupField = field('Group', group);
  const osField = field('Operating system', os);
  const expiry = select('expiry', [['4', 'In 4 hours'], ['24', 'In a day'], ['72', 'In 3 days'], ['168', 'In a week'], ['0', 'Never']], '24');
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const btn = h('button', { class: 'btn', type: 'submit', text: 'Send announcement' });
  const tbody = h('tbody', { id: 'ann-body' }, emptyRow(6, 'Loading…'));
  const syncTarget = () => { groupField.hidden = kind.value !== 'group'; osField.hidden = kind.value !== 'os'; };
  kind.addEventListener('change', syncTarget);
  syncTarget();

  const form = h('form', { class: 'panel', id: 'ann-form', 'aria-labelledby': 'ann-new' },
    h('h2', { id: 'ann-new', text: 'New announcement' }), err,
    field('Title', title), field('What people should know', text),
    field('Kind', annKind, 'A known problem shows at the top of Get help, so people see it before they ask.'),
    h('div', { class: 'row' }, field('Tone', sev), field('Who gets it', kind), groupField, osField, field('Stops showing', expiry)),
    btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    if (!title.value.trim() || !text.value.trim()) { err.textContent = 'Please give it a title and some text.'; err.hidden = false; return; }
    if (kind.value === 'group' && !group.value.trim()) { err.textContent = 'Which group should get it?'; err.hidden = false; group.focus(); return; }
    const hours = Number(expiry.value);
    const body = {
      title: title.value.trim(), text: text.value.trim(), severity: sev.value, kind: annKind.value,
      target: { kind: kind.value, value: kind.value === 'group' ? group.value.trim() : kind.value === 'os' ? os.value : '' },
    };
    if (hours) body.expires_at = new Date(Date.now() + hours * 3600e3).toISOString();
    btn.disabled = true;
    try {
      await post('/api/v1/announcements', body);
      toast('Announcement sent.');
      title.value = ''; text.value = '';
      load();
    } catch (ex) {
      if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; }
    } finally {
      btn.disabled = false;
      // The button disabled itself while focused, dropping the focus to
      // <body>: it goes back to the form's first text box.
      if (document.activeElement === document.body || document.activeElement === btn) title.focus();
    }
  });

  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Announcements' })),
    h('div', { class: 'grid-ann' },
      h('section', { class: 'panel', style: 'padding:0', 'aria-labelledby': 'ann-sent' },
        h('h2', { id: 'ann-sent', style: 'padding:1rem 1rem 0', text: 'Sent' }),
        h('table', {}, h('thead', {}, h('tr', {},
          ['Announcement', 'Tone', 'To', 'Delivered', 'Me too', 'Sent'].map((t, i) => h('th', { scope: 'col', class: i === 3 || i === 4 ? 'num' : '', text: t })))), tbody)),
      form));

  async function load() {
    try {
      const data = await get('/api/v1/announcements');
      const list = data.announcements || [];
      if (!list.length) { tbody.replaceChildren(emptyRow(6, 'Nothing sent yet.')); return; }
      tbody.replaceChildren(...list.map((a) => {
        const expired = a.expires_at && new Date(a.expires_at) < new Date();
        const known = a.kind === 'known_problem';
        const resolved = !!a.resolved_at;
        return h('tr', { class: expired ? 'muted' : '', id: 'ann-' + a.id },
          h('td', {}, h('b', { text: a.title }), ' ', known ? h('span', { class: 'tag kind-known_problem', text: 'Known problem' }) : null,
            resolved ? h('span', { class: 'tag resolved', text: 'Resolved' }) : null,
            h('div', { class: 'small muted', text: a.text }),
            resolved && a.resolved_text ? h('div', { class: 'small', text: 'All-clear: ' + a.resolved_text }) : null,
            known && !resolved && canChange() ? h('button', { type: 'button', class: 'btn quiet small resolve', text: 'Resolve — send the all-clear',
              onclick: () => resolve(a) }) : null),
          h('td', {}, h('span', { class: 'tag sev-' + a.severity, text: (SEVERITY.find(([k]) => k === a.severity) || [, a.severity])[1] })),
          h('td', { text: targetText(a.target) }),
          h('td', { class: 'num', text: `${a.delivered ?? 0} of ${a.recipients ?? 0}` }),
          h('td', { class: 'num' }, known ? [h('span', { class: 'metoo', id: 'metoo-' + a.id, text: String(a.me_too || 0) }),
            h('div', { class: 'metoo-who', id: 'metoo-who-' + a.id, text: whoText(a.me_too_by) })] : '—'),
          h('td', {}, a.created_at ? timeEl(a.created_at) : '—',
            h('div', { class: 'muted small', text: a.expires_at ? (expired ? 'expired' : 'until ' + new Date(a.expires_at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' })) : 'no end' })));
      }));
    } catch (e) {
      if (e.status !== 401) tbody.replaceChildren(emptyRow(6, e.message));
    }
  }
  // resolve asks for the all-clear in a dialog, then sends it.
  const clearText = h('textarea', { id: 'resolve-text', name: 'text', rows: 3, maxlength: 2000 });
  const clearErr = h('div', { class: 'error', role: 'alert', hidden: true });
  const clearTitle = h('p', { class: 'muted small', id: 'resolve-what' });
  let resolving = null;
  const dlg = h('dialog', { id: 'resolve-dialog', 'aria-labelledby': 'resolve-h' },
    h('form', { method: 'dialog', id: 'resolve-form' },
      h('h2', { id: 'resolve-h', text: 'Send the all-clear' }), clearTitle, clearErr,
      field('What people will see', clearText, 'Everyone who got the announcement gets this, and Get help stops showing the problem.'),
      h('div', { class: 'row' },
        h('button', { class: 'btn', type: 'submit', id: 'resolve-send', value: 'send', text: 'Send the all-clear' }),
        h('button', { class: 'btn quiet', type: 'button', text: 'Cancel', onclick: () => dlg.close() }))));
  dlg.querySelector('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErr.hidden = true;
    try {
      const r = await post(`/api/v1/announcements/${enc(resolving.id)}/resolve`, { text: clearText.value.trim() });
      dlg.close();
      toast(`All-clear sent to ${r.recipients} computer${r.recipients === 1 ? '' : 's'}.`);
      load();
    } catch (ex) { if (ex.status !== 401) { clearErr.textContent = ex.message; clearErr.hidden = false; } }
  });
  main.append(dlg);
  function resolve(a) {
    resolving = a;
    clearTitle.textContent = '“' + a.title + '”';
    clearText.value = 'This is fixed now. Thanks for your patience!';
    clearErr.hidden = true;
    dlg.showModal();
    clearText.focus();
  }
  // "Me too" counts arrive live, with who just said it; the list of names
  // comes with the next load.
  const seen = new Map();
  const off = live.on('announcement.updated', (u) => {
    const n = document.getElementById('metoo-' + u.announcement_id);
    if (!n) { load(); return; }
    n.textContent = String(u.me_too);
    if (u.who) {
      const names = seen.get(u.announcement_id) || [];
      names.unshift(whoName(u.who));
      seen.set(u.announcement_id, names);
      const w = document.getElementById('metoo-who-' + u.announcement_id);
      if (w) w.textContent = 'latest: ' + names.slice(0, 3).join(', ');
    }
    if (u.resolved_at) load();
  });
  load();
  const t = setInterval(load, 15000); // delivered counts grow as desks come online
  return () => { clearInterval(t); off(); };
}
