// Heads-up: the checks every desk runs for itself (disk space, restarts,
// updates, passwords, battery, encryption). Per check, who is affected now,
// who fixed it themselves, who asked IT, who snoozed, and 30 days of new
// warnings; the devices behind each number; IT's policy with a preview of
// the notification a person sees; a device's current items.

import { get, api, session, enc } from './api.js';
import * as live from './live.js';
import { h, field, select, timeEl, refreshTimes, toast, debounce } from './util.js';
import { emptyRow } from './store.js';

// CHECKS: the words, the sample numbers the preview fills in, and the
// threshold fields of each check, in the order people see them.
export const CHECKS = {
  password_expiry: {
    name: 'Password expiry', title: 'Your password expires soon',
    text: 'Your password expires in {days} days. Change it now and you won’t be locked out on the road.',
    sample: { days: '3', date: 'Friday' },
    thresholds: [['password_days', 'Warn from (days before)', 0, 90]],
  },
  disk_space: {
    name: 'Disk space', title: 'Your disk is almost full',
    text: 'Your disk is almost full: {free_gb} GB left on {mount}. I can clear temporary files and the trash for you.',
    sample: { free_gb: '3.1', free_pct: '4', mount: 'C:' },
    thresholds: [['disk_free_pct', 'Warn below (% free)', 0, 90], ['disk_free_gb', 'or below (GB free)', 0, 10000]],
  },
  restart_needed: {
    name: 'Restart needed', title: 'Time for a restart',
    text: 'Your computer has been on for {days} days. A restart tonight keeps it quick and safe.',
    sample: { days: '21' },
    thresholds: [['uptime_days', 'Warn after (days up)', 0, 365]],
  },
  os_updates: {
    name: 'System updates', title: 'Updates are waiting',
    text: '{count} updates have been waiting for {days} days. They install in a few minutes.',
    sample: { count: '4', days: '9' },
    thresholds: [['updates_days', 'Warn when waiting (days)', 0, 365]],
  },
  battery_health: {
    name: 'Battery health', title: 'Your battery is wearing out',
    text: 'Your battery holds {health_pct} % of its first charge. Ask IT for a new one before it lets you down.',
    sample: { health_pct: '54' },
    thresholds: [['battery_health_pct', 'Warn below (% of design)', 0, 100]],
  },
  disk_encryption: {
    name: 'Disk encryption', title: 'Your disk is not encrypted',
    text: 'Your disk is not encrypted, so a lost laptop means lost data. IT can switch it on with you.',
    sample: {},
    thresholds: [],
  },
};

export const checkName = (k) => (CHECKS[k] && CHECKS[k].name) || k;

// fill puts the numbers into a check's words: {name} becomes the value
// named name; a placeholder without a value stays as written, so a typo
// shows in the preview instead of vanishing (docs/heads-up.md).
export function fill(text, values) {
  return String(text || '').replace(/\{([a-z_]+)\}/g, (m, k) => (Object.hasOwn(values, k) ? values[k] : m));
}

const STATE = {
  warn: ['Warned', 'sev-warning'],
  snoozed: ['Snoozed', ''],
  asked_it: ['Asked IT', 'st-new'],
  fixed: ['Fixed it themselves', 'st-resolved'],
  ok: ['All good', 'st-resolved'],
  unknown: ['Couldn’t check', ''],
};
export function stateTag(s) {
  const [text, cls] = STATE[s] || [s, ''];
  return h('span', { class: 'tag ' + cls, text });
}

const SVG = 'http://www.w3.org/2000/svg';
// bars draws 30 days of new warnings as small columns; the numbers are in
// the label for screen readers and the tooltip of each day.
function bars(trend) {
  const max = Math.max(1, ...trend.map((d) => d.warned));
  const svg = document.createElementNS(SVG, 'svg');
  const total = trend.reduce((n, d) => n + d.warned, 0);
  svg.setAttribute('class', 'bars');
  svg.setAttribute('viewBox', `0 0 ${trend.length * 4} 24`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `${total} new warnings in ${trend.length} days`);
  trend.forEach((d, i) => {
    const v = d.warned ? Math.max(2, Math.round((d.warned / max) * 22)) : 1;
    const r = document.createElementNS(SVG, 'rect');
    r.setAttribute('x', i * 4 + 0.5);
    r.setAttribute('y', 24 - v);
    r.setAttribute('width', 3);
    r.setAttribute('height', v);
    if (!d.warned) r.setAttribute('class', 'zero');
    const t = document.createElementNS(SVG, 'title');
    t.textContent = `${d.day}: ${d.warned} warned, ${d.fixed} fixed, ${d.asked_it} asked IT`;
    r.append(t);
    svg.append(r);
  });
  return svg;
}

export function renderHeadsUp(main) {
  const tbody = h('tbody', { id: 'checks-body' }, emptyRow(6, 'Loading…'));
  const editor = h('div', { id: 'policy-editor' }, h('p', { class: 'loading', text: 'Loading the policy…' }));
  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Heads-up' })),
    h('p', { class: 'muted', text: 'Every desk checks itself and tells its person before something breaks, with a fix they can click. Here you see how that goes across the fleet.' }),
    h('section', { class: 'panel', style: 'padding:0', 'aria-labelledby': 'checks-h' },
      h('h2', { id: 'checks-h', class: 'panel-title', text: 'Right now' }),
      h('table', { class: 'checks' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: 'Check' }),
          ['Affected now', 'Fixed by people', 'Asked IT', 'Snoozed'].map((t) => h('th', { scope: 'col', class: 'num', text: t })),
          h('th', { scope: 'col', text: 'New warnings, 30 days' }))),
        tbody)),
    editor);

  async function load() {
    try {
      const data = await get('/api/v1/checks/summary');
      tbody.replaceChildren(...(data.checks || []).map((c) => h('tr', { 'data-check': c.check },
        h('th', { scope: 'row' }, h('a', { class: 'rowlink', href: '#/heads-up/' + enc(c.check), text: checkName(c.check) })),
        h('td', { class: 'num' }, h('a', { href: '#/heads-up/' + enc(c.check), class: c.affected ? 'count warm' : 'count', 'aria-label': `${c.affected} affected by ${checkName(c.check)}`, text: String(c.affected) })),
        h('td', { class: 'num' }, h('a', { href: '#/heads-up/' + enc(c.check) + '?state=fixed', class: 'count', 'aria-label': `${c.fixed_by_user} fixed ${checkName(c.check)} themselves`, text: String(c.fixed_by_user) })),
        h('td', { class: 'num' }, h('a', { href: '#/heads-up/' + enc(c.check) + '?state=asked_it', class: 'count', 'aria-label': `${c.asked_it} asked IT about ${checkName(c.check)}`, text: String(c.asked_it) })),
        h('td', { class: 'num' }, h('a', { href: '#/heads-up/' + enc(c.check) + '?state=snoozed', class: 'count', 'aria-label': `${c.snoozed} snoozed ${checkName(c.check)}`, text: String(c.snoozed) })),
        h('td', { class: 'trend' }, bars(c.trend || [])))));
    } catch (e) {
      if (e.status !== 401) tbody.replaceChildren(emptyRow(6, e.message));
    }
  }
  load();
  policyEditor(editor);
  const reload = debounce(load, 500); // a fleet reporting at once is one reload
  const off = live.on('device.checks', reload);
  return off;
}

const NUM = (v) => (v === undefined || v === null ? '' : String(v));

// policyEditor edits one group's policy: pick a check, change its switch,
// thresholds and words, and watch the notification preview follow.
function policyEditor(box) {
  const admin = session.tech.role === 'admin';
  const group = h('input', { type: 'text', id: 'policy-group', name: 'group', placeholder: 'Everyone (default)', autocomplete: 'off' });
  const which = select('check', Object.entries(CHECKS).map(([k, c]) => [k, c.name]), 'password_expiry');
  which.id = 'policy-check';
  const fields = h('div', { id: 'policy-fields' });
  const preview = h('div', { class: 'preview', id: 'policy-preview', 'aria-live': 'polite' });
  const status = h('p', { class: 'muted small', id: 'policy-status' });
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const save = admin ? h('button', { class: 'btn', type: 'submit', id: 'policy-save', text: 'Save and send to the desks' }) : null;
  let policy = null;

  const form = h('form', { class: 'panel', id: 'policy-form', 'aria-labelledby': 'policy-h' },
    h('h2', { id: 'policy-h', text: 'What people see' }),
    admin ? null : h('p', { class: 'notice', text: 'Only admins can change the policy. You can look around.' }),
    err,
    h('div', { class: 'row' },
      field('Enrolment group', group, 'Empty: the default for every group without its own.'),
      h('button', { class: 'btn quiet', type: 'button', id: 'policy-load', text: 'Open', onclick: () => load() }),
      field('Check', which)),
    status,
    h('div', { class: 'grid-policy' }, fields, h('div', {}, h('h3', { class: 'small muted', text: 'Preview on the desk' }), preview)),
    save);

  const item = () => policy.checks.find((c) => c.kind === which.value);

  function drawPreview() {
    const c = item();
    const words = CHECKS[c.kind];
    const title = fill(c.title || words.title, words.sample);
    const text = fill(c.text || words.text, words.sample);
    const buttons = [];
    if (c.kind === 'disk_space' || c.kind === 'restart_needed' || c.kind === 'os_updates' || (c.kind === 'password_expiry' && c.fix_url)) buttons.push('Fix it for me');
    if (c.how_to_url || c.article_id) buttons.push('Show me how');
    buttons.push('Remind me later', 'Ask IT');
    preview.replaceChildren(h('div', { class: 'toast-preview' + (c.enabled ? '' : ' off') },
      h('div', { class: 'small muted', text: 'Deskside · now' }),
      h('b', { text: title }),
      h('p', { text }),
      h('div', { class: 'row' }, buttons.map((b, i) => h('span', { class: 'fake-btn' + (i ? '' : ' first'), text: b }))),
      c.enabled ? null : h('p', { class: 'small muted', text: 'This check is off: nobody sees this.' }),
      c.fix_url ? h('p', { class: 'small muted', text: 'Opens ' + hostOf(c.fix_url) }) : null));
  }

  function drawFields() {
    const c = item();
    const words = CHECKS[c.kind];
    const on = h('input', { type: 'checkbox', id: 'pf-enabled', checked: !!c.enabled, disabled: !admin });
    on.addEventListener('change', () => { c.enabled = on.checked; drawPreview(); });
    const kids = [h('div', { class: 'field check' }, on, h('label', { for: 'pf-enabled', text: 'Run this check on every desk' }))];
    const row = [];
    for (const [key, label, min, max] of words.thresholds) {
      const inp = h('input', { type: 'number', id: 'pf-' + key, min, max, step: 'any', value: NUM(c[key]), disabled: !admin });
      inp.addEventListener('input', () => { c[key] = inp.value === '' ? 0 : Number(inp.value); });
      row.push(field(label, inp));
    }
    const remind = h('input', { type: 'number', id: 'pf-remind', min: 0, max: 720, value: NUM(c.remind_hours), disabled: !admin });
    remind.addEventListener('input', () => { c.remind_hours = remind.value === '' ? 0 : Number(remind.value); });
    row.push(field('Remind again after (hours)', remind));
    kids.push(h('div', { class: 'row' }, row));
    const title = h('input', { type: 'text', id: 'pf-title', maxlength: 1000, value: c.title || '', placeholder: words.title, disabled: !admin });
    const text = h('textarea', { id: 'pf-text', rows: 3, placeholder: words.text, disabled: !admin }, c.text || '');
    const how = h('input', { type: 'url', id: 'pf-howto', value: c.how_to_url || '', placeholder: 'https://intranet.example.com/how-to', disabled: !admin });
    const upd = () => {
      c.title = title.value; c.text = text.value; c.how_to_url = how.value.trim();
      if (fix) c.fix_url = fix.value.trim();
      drawPreview();
    };
    let fix = null;
    kids.push(field('Title', title), field('Words', text, 'Empty fields use the words shown greyed. Placeholders: ' + (Object.keys(words.sample).map((k) => '{' + k + '}').join(' ') || 'none for this check') + '.'),
      field('“Show me how” link', how, 'https:// only.'));
    if (c.kind === 'password_expiry') {
      fix = h('input', { type: 'url', id: 'pf-fix', value: c.fix_url || '', placeholder: 'https://id.example.com/password', disabled: !admin });
      kids.push(field('Password-change page', fix, 'The “Fix it for me” button opens it (https:// only).'));
      fix.addEventListener('input', upd);
    }
    for (const el of [title, text, how]) el.addEventListener('input', upd);
    fields.replaceChildren(...kids);
    drawPreview();
  }

  async function load() {
    err.hidden = true;
    try {
      const g = group.value.trim();
      const p = await get('/api/v1/checks/policy' + (g ? '?group=' + enc(g) : ''));
      // Every known check gets an item, so the editor can switch one on
      // that the stored policy leaves out.
      for (const k of Object.keys(CHECKS)) {
        if (!p.checks.some((c) => c.kind === k)) p.checks.push({ kind: k, enabled: false });
      }
      policy = p;
      status.textContent = p.revision
        ? `${p.inherited ? 'Follows the default policy' : 'Own policy'} · revision ${p.revision}` + (p.updated_by ? ` · saved by ${p.updated_by}` : '')
        : 'Deskside’s built-in policy: nobody has changed it yet.';
      drawFields();
    } catch (e) {
      if (e.status !== 401) { err.textContent = e.message; err.hidden = false; }
    }
  }
  which.addEventListener('change', () => { if (policy) drawFields(); });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!admin || !policy) return;
    err.hidden = true;
    save.disabled = true;
    const g = group.value.trim();
    try {
      const out = await api('PUT', '/api/v1/checks/policy' + (g ? '?group=' + enc(g) : ''), { checks: policy.checks.map(clean) });
      toast(`Saved. Sent to ${out.queued} desks (${out.sent_live} online now); the rest get it when they connect.`);
      load();
    } catch (ex) {
      if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; }
    } finally {
      save.disabled = false;
    }
  });
  box.replaceChildren(form);
  load();
}

// clean drops empty words and links, so the agent's own words apply.
function clean(c) {
  const out = { ...c };
  for (const k of ['title', 'text', 'how_to_url', 'fix_url', 'article_id']) if (!out[k]) delete out[k];
  return out;
}

function hostOf(u) {
  try { return new URL(u).host; } catch { return u; }
}

// renderCheckDevices lists the devices behind one number of the summary.
export function renderCheckDevices(main, check, params) {
  const states = [['', 'Affected now'], ['warn', 'Warned, no answer yet'], ['snoozed', 'Snoozed'], ['asked_it', 'Asked IT'], ['fixed', 'Fixed it themselves'], ['all', 'Every state']];
  const st = select('state', states, params.get('state') || '');
  st.id = 'check-state';
  const tbody = h('tbody', { id: 'check-devices-body' }, emptyRow(5, 'Loading…'));
  main.append(
    h('p', { class: 'small' }, h('a', { href: '#/heads-up', text: '← Heads-up' })),
    h('div', { class: 'page-head' }, h('h1', { text: checkName(check) })),
    h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() }, field('Show', st)),
    h('section', { class: 'panel', style: 'padding:0', 'aria-label': 'Devices' },
      h('table', {}, h('thead', {}, h('tr', {}, ['Device', 'User', 'State', 'What they saw', 'Since'].map((t) => h('th', { scope: 'col', text: t })))), tbody)));
  async function load() {
    try {
      const data = await get(`/api/v1/checks/${enc(check)}/devices` + (st.value ? '?state=' + enc(st.value) : ''));
      const list = data.devices || [];
      if (!list.length) { tbody.replaceChildren(emptyRow(5, 'No device is in that state. Good news.')); return; }
      tbody.replaceChildren(...list.map((c) => h('tr', {},
        h('td', {}, h('a', { class: 'rowlink', href: '#/devices/' + enc(c.device_id), text: c.hostname || c.device_id })),
        h('td', { text: c.user || '—' }),
        h('td', {}, stateTag(c.state), c.request_id ? [' ', h('a', { href: '#/requests/' + enc(c.request_id), text: 'request' })] : null),
        h('td', { text: c.summary || '—' }),
        h('td', {}, timeEl(c.updated_at)))));
    } catch (e) {
      if (e.status !== 401) tbody.replaceChildren(emptyRow(5, e.message));
    }
  }
  st.addEventListener('change', load);
  load();
  const reload = debounce(load, 500);
  const off = live.on('device.checks', (b) => { if ((b.checks || []).some((c) => c.check === check)) reload(); });
  const tick = setInterval(() => refreshTimes(main), 30000);
  return () => { off(); clearInterval(tick); };
}

// deviceHeadsUp is a device page's list of its current heads-up items.
export function deviceHeadsUp(items) {
  const flagged = (items || []).filter((c) => c.state !== 'ok');
  return h('section', { id: 'device-checks', 'aria-labelledby': 'dc-h' },
    h('h2', { id: 'dc-h', style: 'margin-top:1rem', text: 'Heads-up' }),
    flagged.length
      ? h('ul', { class: 'checklist' }, flagged.map((c) => h('li', {},
        h('div', { class: 'line' }, stateTag(c.state), h('b', { text: checkName(c.check) }), h('span', { class: 'muted small when' }, timeEl(c.updated_at))),
        c.summary || c.request_id ? h('div', { class: 'small' }, c.summary || '',
          c.request_id ? [c.summary ? ' · ' : '', h('a', { href: '#/requests/' + enc(c.request_id), text: 'their request' })] : null) : null)))
      : h('p', { class: 'muted small', text: (items || []).length ? 'Nothing to flag: every check is fine.' : 'No heads-up checks reported yet.' }));
}
