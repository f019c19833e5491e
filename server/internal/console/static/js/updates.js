// Updates (admin): signed agent releases and their staged rollout — the
// percentage, pause and resume, how many devices run each version, and
// which updates failed (a failure halts a release until an admin resumes).
// Releases are signed offline and uploaded with the API (docs/updates.md).

import { get, patch, enc } from './api.js';
import { h, timeEl, refreshTimes, toast, osName, actionsTh } from './util.js';
import { emptyRow } from './store.js';

const COLS = 8;

function platform(r) {
  return `${osName(r.os)} ${r.arch}`;
}

function statusTag(r) {
  if (r.halted_reason) return h('span', { class: 'tag sev-outage', text: 'Halted' });
  if (r.paused) return h('span', { class: 'tag sev-warning', text: 'Paused' });
  if (!r.percent) return h('span', { class: 'tag', text: 'Not started' });
  if (r.percent >= 100) return h('span', { class: 'tag st-resolved', text: 'Everyone' });
  return h('span', { class: 'tag st-new', text: 'Rolling out' });
}

export function renderUpdates(main) {
  const tbody = h('tbody', { id: 'releases-body' }, emptyRow(COLS, 'Loading releases…'));
  const vbody = h('tbody', { id: 'versions-body' }, emptyRow(3, 'Loading…'));
  const notice = h('div', { class: 'notice', id: 'updates-notice', role: 'status', hidden: true });
  let hostnames = null; // device id → hostname, fetched when failures are opened
  const open = new Set(); // release ids whose failures are shown

  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Updates' })),
    h('p', { class: 'muted small lead-line', text: 'Releases are signed offline and uploaded with the API (docs/updates.md). Each starts at 0 %: widen it in stages. A failed update halts its release until you resume it.' }),
    notice,
    h('section', { class: 'panel', style: 'padding:0', 'aria-labelledby': 'rel-h' },
      h('h2', { id: 'rel-h', class: 'panel-title', text: 'Releases' }),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'releases' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col', text: 'Release' }), h('th', { scope: 'col', text: 'Platform' }),
            h('th', { scope: 'col', text: 'Status' }), h('th', { scope: 'col', text: 'Rollout' }),
            h('th', { scope: 'col', class: 'num', text: 'Running it' }), h('th', { scope: 'col', class: 'num', text: 'Updated' }),
            h('th', { scope: 'col', class: 'num', text: 'Failed' }), actionsTh())),
          tbody))),
    h('section', { class: 'panel versions', style: 'padding:0', 'aria-labelledby': 'ver-h' },
      h('h2', { id: 'ver-h', class: 'panel-title', text: 'Devices per version' }),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Version' }), h('th', { scope: 'col', text: 'Platform' }),
          h('th', { scope: 'col', class: 'num', text: 'Devices' }))),
        vbody)));

  async function change(r, body, ok) {
    try {
      await patch('/api/v1/releases/' + enc(r.id), body);
      toast(ok);
      load();
    } catch (e) { if (e.status !== 401) toast(e.message, true); }
  }

  function rolloutCell(r) {
    const name = `${r.version} ${platform(r)}`;
    const input = h('input', { type: 'number', name: 'percent', min: '0', max: '100', step: '1', value: String(r.percent),
      class: 'pct-input', 'aria-label': 'Rollout percentage for ' + name });
    const form = h('form', { class: 'rollout', 'data-id': r.id },
      h('span', { class: 'meter', 'aria-hidden': 'true' }, h('span', { style: `width:${Math.max(0, Math.min(100, r.percent))}%` })),
      input, h('span', { class: 'muted', 'aria-hidden': 'true', text: '%' }),
      h('button', { class: 'btn quiet small', type: 'submit', text: 'Set', 'aria-label': 'Set the rollout percentage for ' + name }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const n = Number(input.value);
      if (!Number.isInteger(n) || n < 0 || n > 100) { toast('The percentage must be a whole number from 0 to 100.', true); return; }
      if (n === r.percent) return;
      change(r, { percent: n }, `${name} now goes to ${n} % of devices.`);
    });
    return form;
  }

  function releaseRows(r) {
    const name = `${r.version} ${platform(r)}`;
    const stopped = r.paused || r.halted_reason;
    const rows = [h('tr', { 'data-id': r.id, class: r.halted_reason ? 'halted' : '' },
      h('td', { class: 'nowrap' },
        h('b', { text: r.version }), ' ', h('span', { class: 'tag', text: r.channel }),
        r.rollback ? [' ', h('span', { class: 'tag sev-warning', text: 'Rollback' })] : null,
        h('div', { class: 'small muted', title: r.uploaded_by ? 'Uploaded by ' + r.uploaded_by : null }, 'uploaded ', timeEl(r.uploaded))),
      h('td', { class: 'nowrap', text: platform(r) }),
      h('td', {}, statusTag(r), r.halted_reason ? h('div', { class: 'small halt-reason', text: r.halted_reason.replace(/^halted:\s*/, '') }) : null),
      h('td', {}, rolloutCell(r)),
      h('td', { class: 'num', text: String(r.devices || 0) }),
      h('td', { class: 'num', text: String(r.updated || 0) }),
      h('td', { class: 'num' + (r.failed ? ' bad' : '') }, r.failed
        ? h('button', { class: 'btn ghost small', type: 'button', 'aria-expanded': String(open.has(r.id)), 'aria-controls': 'fail-' + r.id,
          'aria-label': `${r.failed} failed — ${open.has(r.id) ? 'hide' : 'show'} the failures of ${name}`, text: `${r.failed} ${open.has(r.id) ? '▾' : '▸'}`,
          onclick: () => {
            if (open.has(r.id)) open.delete(r.id); else open.add(r.id);
            draw();
            tbody.querySelector(`[aria-controls="fail-${CSS.escape(r.id)}"]`)?.focus();
          } })
        : '0'),
      h('td', {}, h('button', { class: 'btn small' + (stopped ? '' : ' quiet'), type: 'button',
        text: stopped ? 'Resume' : 'Pause', 'aria-label': (stopped ? 'Resume ' : 'Pause ') + name,
        onclick: () => change(r, { paused: !stopped }, stopped ? `${name} is rolling out again.` : `${name} is paused; nothing new is offered.`) })))];
    if (r.failed && open.has(r.id)) {
      const list = h('ul', { class: 'failures', id: 'fail-' + r.id }, h('li', { class: 'muted', text: 'Loading failures…' }));
      rows.push(h('tr', { class: 'failures-row' }, h('td', { colspan: COLS }, list)));
      loadFailures(r, list);
    }
    return rows;
  }

  async function loadFailures(r, list) {
    try {
      if (!hostnames) {
        hostnames = new Map();
        try { for (const d of (await get('/api/v1/devices')).devices || []) hostnames.set(d.id, d.hostname); } catch (e) { if (e.status === 401) return; }
      }
      const data = await get('/api/v1/releases/' + enc(r.id));
      const fails = data.failures || [];
      if (!fails.length) { list.replaceChildren(h('li', { class: 'muted', text: 'No failures on record.' })); return; }
      list.replaceChildren(...fails.map((f) => h('li', {},
        h('b', { text: hostnames.get(f.device_id) || f.device_id }), ' ',
        h('span', { class: 'tag ' + (f.rolled_back ? 'sev-warning' : 'sev-outage'), text: f.rolled_back ? 'Rolled back' : 'Refused' }), ' ',
        h('span', { class: 'muted', text: `${f.from_version} → ${f.to_version} · ` }), timeEl(f.at),
        f.detail ? h('div', { class: 'small', text: f.detail }) : null)));
    } catch (e) { if (e.status !== 401) list.replaceChildren(h('li', { class: 'error', text: e.message })); }
  }

  let releases = [];
  function draw() {
    if (!releases.length) {
      tbody.replaceChildren(emptyRow(COLS, 'No releases yet. Sign one with deskside-release and upload it (docs/updates.md, step 3).'));
      return;
    }
    tbody.replaceChildren(...releases.flatMap(releaseRows));
  }

  function drawVersions(vs) {
    if (!vs.length) { vbody.replaceChildren(emptyRow(3, 'No device has said which version it runs yet.')); return; }
    const max = Math.max(...vs.map((v) => v.devices));
    vbody.replaceChildren(...vs.map((v) => h('tr', {},
      h('td', {}, h('b', { text: v.version })),
      h('td', { class: 'nowrap', text: platform(v) }),
      h('td', { class: 'num' },
        h('span', { class: 'meter', 'aria-hidden': 'true' }, h('span', { style: `width:${Math.round(100 * v.devices / max)}%` })), ' ',
        String(v.devices)))));
  }

  async function load() {
    try {
      const data = await get('/api/v1/releases');
      notice.hidden = true;
      releases = data.releases || [];
      draw();
      drawVersions(data.versions || []);
    } catch (e) {
      if (e.status === 401) return;
      if (e.status === 503) {
        notice.textContent = 'Agent updates are off on this server: ' + e.message;
        notice.hidden = false;
        tbody.replaceChildren(emptyRow(COLS, 'No releases: the server has no publisher key.'));
        vbody.replaceChildren(emptyRow(3, '—'));
        return;
      }
      tbody.replaceChildren(emptyRow(COLS, e.message));
    }
  }
  load();
  const timer = setInterval(() => { load(); refreshTimes(main); }, 30000);
  return () => clearInterval(timer);
}
