// Response targets: the queue's "Time left" wording and order, the toast
// when a target is slipping, and the admin page that sets the targets.

import { api, get, session } from './api.js';
import { h, field, toast } from './util.js';

// span is a duration in words: "1 h 20 min", "2 d 3 h", "4 min".
function span(ms) {
  const m = Math.max(1, Math.round(ms / 60000));
  const d = Math.floor(m / 1440), hr = Math.floor(m % 1440 / 60), min = m % 60;
  if (d) return hr ? `${d} d ${hr} h` : `${d} d`;
  if (hr) return min ? `${hr} h ${min} min` : `${hr} h`;
  return `${min} min`;
}

// target is the due that matters now for r: the first answer until one
// came, then the resolution. null: no target, or nothing left to time.
export function target(r) {
  if (r.status === 'resolved') return null;
  if (!r.first_response_at && r.first_response_due) return { kind: 'first answer', due: new Date(r.first_response_due) };
  if (r.resolution_due) return { kind: 'resolution', due: new Date(r.resolution_due) };
  return null;
}

// timeLeft is what the queue says about r's target at now:
// {text, state: 'ok'|'soon'|'overdue'|'paused'|'none', sort}. sort orders
// the most urgent first: overdue, then least time left, then paused,
// then no target, then resolved.
export function timeLeft(r, now = Date.now()) {
  if (r.status === 'resolved') return { text: '—', state: 'none', sort: 4e15 };
  const t = target(r);
  if (r.status === 'waiting_on_user') {
    return { text: 'Paused', state: 'paused', sort: 2e15 + (t ? t.due - now : 0), kind: 'waiting on the employee' };
  }
  if (!t) return { text: 'No target', state: 'none', sort: 3e15 };
  const left = t.due - now;
  const title = `${t.kind === 'first answer' ? 'First answer' : 'Resolution'} due ${t.due.toLocaleString([], { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' })}`;
  if (left <= 0) return { text: `Overdue by ${span(-left)}`, state: 'overdue', sort: left, title, kind: t.kind };
  return { text: `${span(left)} left`, state: left <= 30 * 60000 ? 'soon' : 'ok', sort: left, title, kind: t.kind };
}

// timeLeftCell is the queue's cell for r: words first (never colour
// alone), with a sign for overdue and paused.
export function timeLeftCell(r, now) {
  const tl = timeLeft(r, now);
  const icon = tl.state === 'overdue' ? '⚠ ' : '';
  return h('td', { class: 'time-left tl-' + tl.state, 'data-state': tl.state, title: tl.title || null },
    icon ? h('span', { 'aria-hidden': 'true', text: icon }) : null, h('span', { class: 'tl-text', text: tl.text }),
    tl.kind ? h('div', { class: 'muted small', text: (tl.state === 'paused' ? '' : 'to ') + tl.kind }) : null);
}

// slippingToast tells the technician a target is slipping: the assignee
// hears about their own requests, everyone about unassigned ones.
export function slippingToast(b) {
  const r = b.request || {};
  if (r.assignee && session.tech && r.assignee !== session.tech.id) return false;
  const what = b.target === 'first_response' ? 'first answer' : 'resolution';
  const who = r.user || r.hostname || 'someone';
  const left = new Date(b.due) - Date.now();
  const when = b.overdue || left <= 0 ? `is overdue by ${span(-Math.min(left, -60000))}` : `is due in ${span(left)}`;
  toast(`${r.assignee ? 'Your' : 'Unassigned'} request from ${who}: the ${what} ${when} — “${(r.text || '').slice(0, 60)}”`, !!b.overdue);
  return true;
}

// --- The admin page -------------------------------------------------------

const DAYS = [['mon', 'Mon'], ['tue', 'Tue'], ['wed', 'Wed'], ['thu', 'Thu'], ['fri', 'Fri'], ['sat', 'Sat'], ['sun', 'Sun']];

export function renderSLA(main) {
  const summary = h('div', { class: 'error', role: 'alert', id: 'sla-errors', hidden: true });
  const form = h('form', { id: 'sla-form', novalidate: true });
  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Response targets' })),
    h('p', { class: 'muted', text: 'How soon IT answers and resolves, counted in each team’s working hours. The clock pauses while a request waits on the employee. New targets apply to requests raised after you save; open requests keep the times they were promised.' }),
    summary, form);
  let policy = null;
  let alive = true;

  const num = (id, value, label, hint) => field(label, h('input', { type: 'number', min: '0', step: '1', id, value: String(value || 0), 'data-field': id.replace(/^sla-/, '').replaceAll('-', '.') }), hint);

  function draw() {
    const t = policy.targets || {};
    const teams = h('div', { id: 'sla-teams' });
    policy.teams.forEach((team, i) => teams.append(teamPanel(team, i)));
    form.replaceChildren(
      h('section', { class: 'panel', 'aria-labelledby': 'sla-targets-h' },
        h('h2', { id: 'sla-targets-h', text: 'Targets (working minutes; 0 for none)' }),
        h('div', { class: 'row' },
          num('sla-targets-blocking-first_response_minutes', t.blocking?.first_response_minutes, '“Blocking my work”: first answer within'),
          num('sla-targets-blocking-resolution_minutes', t.blocking?.resolution_minutes, '“Blocking my work”: resolved within')),
        h('div', { class: 'row' },
          num('sla-targets-when_you_can-first_response_minutes', t.when_you_can?.first_response_minutes, '“When you can”: first answer within'),
          num('sla-targets-when_you_can-resolution_minutes', t.when_you_can?.resolution_minutes, '“When you can”: resolved within')),
        num('sla-warn_before_minutes', policy.warn_before_minutes, 'Warn this many minutes before a target slips', 'The assignee is warned, or everyone when nobody is assigned.')),
      teams,
      h('div', { class: 'row' },
        h('button', { class: 'btn quiet', type: 'button', id: 'sla-add-team', text: 'Add a team', onclick: () => { collect(); policy.teams.push({ name: '', time_zone: policy.teams[0]?.time_zone || 'UTC', hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }], holidays: [], groups: [] }); draw(); } }),
        h('button', { class: 'btn', type: 'submit', id: 'sla-save', text: 'Save response targets' })));
  }

  function teamPanel(team, i) {
    const p = `teams[${i}]`;
    const hours = h('div', { class: 'sla-hours' });
    (team.hours || []).forEach((hr, k) => {
      const f = `${p}.hours[${k}]`;
      hours.append(h('fieldset', { class: 'sla-span', 'data-field': f },
        h('legend', { text: `Working hours ${k + 1}` }),
        h('div', { class: 'sla-days', 'data-field': f + '.days' }, DAYS.map(([d, label]) =>
          h('label', { class: 'checkbox' }, h('input', { type: 'checkbox', 'data-day': d, checked: (hr.days || []).includes(d) }), label))),
        h('div', { class: 'row' },
          field('From', h('input', { type: 'text', inputmode: 'numeric', placeholder: '09:00', 'data-part': 'start', 'data-field': f + '.start', value: hr.start || '' }), 'HH:MM'),
          field('To', h('input', { type: 'text', inputmode: 'numeric', placeholder: '17:00', 'data-part': 'end', 'data-field': f + '.end', value: hr.end || '' }), 'HH:MM; 24:00 is midnight'),
          h('button', { class: 'btn quiet small', type: 'button', text: 'Remove these hours', onclick: () => { collect(); policy.teams[i].hours.splice(k, 1); draw(); } }))));
    });
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const listId = 'sla-zones';
    if (!document.getElementById(listId)) document.body.append(h('datalist', { id: listId }, zones.map((z) => h('option', { value: z }))));
    return h('section', { class: 'panel sla-team', 'data-team': String(i), 'aria-labelledby': `sla-team-${i}-h` },
      h('h2', { id: `sla-team-${i}-h`, text: i === 0 ? `Team ${i + 1} (also serves every device in no named group)` : `Team ${i + 1}` }),
      h('div', { class: 'row' },
        field('Name', h('input', { type: 'text', 'data-part': 'name', 'data-field': p + '.name', value: team.name || '' })),
        field('Time zone', h('input', { type: 'text', list: listId, 'data-part': 'time_zone', 'data-field': p + '.time_zone', value: team.time_zone || '' }), 'For example Europe/Berlin')),
      hours,
      h('button', { class: 'btn quiet small', type: 'button', id: `sla-add-hours-${i}`, text: 'Add working hours', onclick: () => { collect(); policy.teams[i].hours.push({ days: [], start: '09:00', end: '17:00' }); draw(); } }),
      field('Holidays', h('textarea', { rows: '2', 'data-part': 'holidays', 'data-field': p + '.holidays', text: (team.holidays || []).join(', ') }), 'Dates as YYYY-MM-DD, separated by commas: 2026-12-25, 2026-12-26'),
      field('Enrolment groups this team serves', h('input', { type: 'text', 'data-part': 'groups', 'data-field': p + '.groups', value: (team.groups || []).join(', ') }), 'Separated by commas'),
      policy.teams.length > 1 ? h('button', { class: 'btn danger small', type: 'button', text: 'Remove this team', onclick: () => { collect(); policy.teams.splice(i, 1); draw(); } }) : null);
  }

  const list = (s) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
  const val = (id) => Number(form.querySelector('#' + id).value || 0);

  // collect reads the form back into policy.
  function collect() {
    policy.targets = {
      blocking: { first_response_minutes: val('sla-targets-blocking-first_response_minutes'), resolution_minutes: val('sla-targets-blocking-resolution_minutes') },
      when_you_can: { first_response_minutes: val('sla-targets-when_you_can-first_response_minutes'), resolution_minutes: val('sla-targets-when_you_can-resolution_minutes') },
    };
    policy.warn_before_minutes = val('sla-warn_before_minutes');
    policy.teams = [...form.querySelectorAll('.sla-team')].map((sec) => {
      const part = (n) => sec.querySelector(`[data-part=${n}]`).value;
      return {
        name: part('name').trim(), time_zone: part('time_zone').trim(), holidays: list(part('holidays')), groups: list(part('groups')),
        hours: [...sec.querySelectorAll('.sla-span')].map((fs) => ({
          days: [...fs.querySelectorAll('input[data-day]:checked')].map((c) => c.dataset.day),
          start: fs.querySelector('[data-part=start]').value, end: fs.querySelector('[data-part=end]').value.trim(),
        })),
      };
    });
  }

  function clearErrors() {
    summary.hidden = true;
    for (const el of form.querySelectorAll('.field-error')) el.remove();
    for (const el of form.querySelectorAll('[aria-invalid]')) {
      el.removeAttribute('aria-invalid');
      if (el.dataset.describedby) el.setAttribute('aria-describedby', el.dataset.describedby); else el.removeAttribute('aria-describedby');
    }
  }

  // showErrors puts each error beside the closest field it names
  // ("teams[0].holidays[2]" → the holidays box) and lists them on top.
  function showErrors(fields, message) {
    clearErrors();
    summary.replaceChildren(h('p', { text: 'Please fix these before saving:' }),
      h('ul', {}, (fields.length ? fields : [{ message }]).map((f) => h('li', { text: f.field ? `${f.field}: ${f.message}` : f.message }))));
    summary.hidden = false;
    let n = 0;
    for (const f of fields) {
      let path = f.field, el = null;
      while (path && !(el = form.querySelector(`[data-field="${CSS.escape(path)}"]`))) path = path.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
      if (!el) continue;
      const id = `sla-err-${++n}`;
      const msg = h('div', { class: 'field-error', id, text: f.message });
      if (el.matches('input, textarea, select')) {
        // The error joins the field's description, so a screen reader
        // reads it with the field.
        if (!el.hasAttribute('aria-invalid')) el.dataset.describedby = el.getAttribute('aria-describedby') || '';
        el.setAttribute('aria-invalid', 'true');
        el.setAttribute('aria-describedby', `${el.getAttribute('aria-describedby') || ''} ${id}`.trim());
        const box = el.closest('.field');
        if (box) box.append(msg); else el.after(msg);
      } else el.append(msg);
    }
    summary.scrollIntoView({ block: 'nearest' });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    collect();
    try {
      policy = await api('PUT', '/api/v1/sla', policy);
      clearErrors();
      draw();
      toast('Response targets saved. New requests get them at once.');
    } catch (ex) {
      if (ex.status === 401) return;
      showErrors(ex.data?.fields || [], ex.message);
    }
  });

  get('/api/v1/sla').then((p) => {
    if (!alive) return;
    policy = p;
    if (!policy.teams?.length) policy.teams = [{ name: 'default', time_zone: 'UTC', hours: [], holidays: [], groups: [] }];
    draw();
  }).catch((e) => { if (e.status !== 401) { summary.textContent = e.message; summary.hidden = false; } });
  return () => { alive = false; };
}
