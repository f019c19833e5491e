// Devices: the list with online state and search; one device with its last
// snapshot, live figures while open, a message to its user and admin revoke.

import { get, post, session, enc, canChange } from './api.js';
import * as live from './live.js';
import { h, field, timeEl, refreshTimes, debounce, toast, osName, pct } from './util.js';
import { hostFacts, figures } from './devstate.js';
import { emptyRow } from './store.js';
import { deviceHeadsUp } from './headsup.js';

let lastQuery = '';

export function renderDevices(main) {
  const q = h('input', { type: 'search', id: 'device-search', name: 'q', value: lastQuery, placeholder: 'Name, user or system', autocomplete: 'off' });
  const tbody = h('tbody', { id: 'devices-body' }, emptyRow(6, 'Loading devices…'));
  const summary = h('p', { class: 'muted small', id: 'devices-summary', 'aria-live': 'polite' });
  let devices = [];
  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Devices' })),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); load(); } },
      field('Search devices', q)),
    h('section', { class: 'panel', style: 'padding:0', 'aria-label': 'Devices' },
      h('table', {},
        h('thead', {}, h('tr', {}, ['Device', 'User', 'System', 'Group', 'Agent', 'Last seen'].map((t) => h('th', { scope: 'col', text: t })))),
        tbody)),
    summary);

  function draw() {
    if (!devices.length) {
      tbody.replaceChildren(emptyRow(6, lastQuery ? 'No device matches that search.' : 'No devices yet. Make an enrolment token (Admin → Enrolment tokens) and install the agent on a computer.'));
    } else {
      tbody.replaceChildren(...devices.map((d) => h('tr', { 'data-id': d.id },
        h('td', {}, h('span', { class: 'dot ' + (d.online ? 'online' : 'offline'), title: d.online ? 'Online' : 'Offline', 'aria-hidden': 'true' }), ' ',
          h('a', { class: 'rowlink', href: '#/devices/' + enc(d.id), text: d.hostname }),
          h('span', { class: 'visually-hidden', text: d.online ? ' (online)' : ' (offline)' }),
          d.revoked ? h('span', { class: 'tag sev-outage', text: 'Revoked' }) : null),
        h('td', { text: d.user || '—' }),
        h('td', { text: [osName(d.os), d.platform].filter((x) => x && x !== '—').join(' · ') }),
        h('td', { text: d.group || '—' }),
        h('td', { text: d.agent_version || '—' }),
        h('td', {}, d.online ? 'Online now' : (d.last_seen ? timeEl(d.last_seen) : '—')))));
    }
    const on = devices.filter((d) => d.online).length;
    summary.textContent = `${devices.length} devices, ${on} online.`;
  }

  async function load() {
    lastQuery = q.value.trim();
    try {
      const data = await get('/api/v1/devices' + (lastQuery ? '?q=' + enc(lastQuery) : ''));
      devices = data.devices || [];
      draw();
    } catch (e) {
      if (e.status !== 401) tbody.replaceChildren(emptyRow(6, e.message));
    }
  }
  q.addEventListener('input', debounce(load, 250));
  load();
  const offs = [
    live.on('presence', (p) => {
      const d = devices.find((x) => x.id === p.device_id);
      if (d) { d.online = p.online; d.last_seen = p.at; draw(); } else if (p.online && !lastQuery) load();
    }),
  ];
  const tick = setInterval(() => refreshTimes(main), 30000);
  return () => { offs.forEach((f) => f()); clearInterval(tick); };
}

function spark(values) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', '0 0 100 28');
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('aria-hidden', 'true');
  const pl = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
  const n = values.length;
  pl.setAttribute('points', values.map((v, i) => `${n > 1 ? (i * 100) / (n - 1) : 0},${27 - (Math.max(0, Math.min(100, v)) * 26) / 100}`).join(' '));
  svg.append(pl);
  return svg;
}

export function renderDevice(main, id) {
  const state = { d: null, telem: null, hist: { cpu: [], mem: [], disk: [] } };
  let closed = false;
  const info = h('div', {}, h('p', { class: 'loading', text: 'Loading the device…' }));
  const liveBox = h('section', { class: 'panel', 'aria-labelledby': 'live-h' });
  main.append(h('p', { class: 'small' }, h('a', { href: '#/devices', text: '← All devices' })), h('div', { class: 'grid-2' }, info, h('div', {}, liveBox, canChange() ? messageForm() : null)));

  function messageForm() {
    const ta = h('textarea', { id: 'dm-text', rows: 3, placeholder: 'For example: “Hi! We’ll restart the printer at noon — save your work first.”' });
    const btn = h('button', { class: 'btn', type: 'submit', text: 'Send the message' });
    const form = h('form', { class: 'panel', id: 'dm-form', 'aria-labelledby': 'dm-h' },
      h('h2', { id: 'dm-h', text: 'Send a message' }),
      h('p', { class: 'muted small', text: 'It pops up on their screen, from you. If the computer is off, it arrives when it’s back.' }),
      field('Message', ta), btn);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = ta.value.trim();
      if (!text) { ta.focus(); return; }
      btn.disabled = true;
      try {
        await post(`/api/v1/devices/${enc(id)}/messages`, { text });
        ta.value = '';
        toast('Message sent.');
      } catch (err) {
        if (err.status !== 401) toast(err.message, true);
      } finally {
        btn.disabled = false;
        // The button disabled itself while focused, dropping the focus to
        // <body>: it goes back to the text box.
        if (document.activeElement === document.body || document.activeElement === btn) ta.focus();
      }
    });
    return form;
  }

  function drawInfo() {
    const d = state.d;
    const admin = session.tech.role === 'admin';
    info.replaceChildren(h('section', { class: 'panel', 'aria-labelledby': 'dev-h' },
      h('div', { class: 'page-head' },
        h('span', { class: 'dot ' + (d.online ? 'online' : 'offline'), 'aria-hidden': 'true' }),
        h('h1', { id: 'dev-h', text: d.hostname }),
        h('span', { class: 'muted', id: 'dev-online', text: d.online ? 'Online now' : 'Offline' }),
        d.revoked ? h('span', { class: 'tag sev-outage', text: 'Revoked' }) : null),
      h('p', { class: 'muted small' }, `${d.user || 'Unknown user'} · ${osName(d.os)} ${d.arch || ''} · group ${d.group || '—'} · agent ${d.agent_version || '—'} · enrolled `, d.enrolled_at ? timeEl(d.enrolled_at) : '—'),
      h('div', { class: 'row' },
        canChange() && h('button', { class: 'btn quiet', type: 'button', id: 'fresh-snapshot', text: 'Ask for a fresh snapshot', disabled: !d.online || d.revoked,
          onclick: async () => { try { await post(`/api/v1/devices/${enc(id)}/snapshot`); toast('Asked for a fresh snapshot. It appears here when it arrives.'); } catch (e) { if (e.status !== 401) toast(e.message, true); } } }),
        h('a', { class: 'btn ghost', href: '#/queue', text: 'Back to the queue' }),
        admin && !d.revoked ? h('button', { class: 'btn danger', type: 'button', id: 'revoke', text: 'Revoke this device', onclick: revoke }) : null),
      h('h2', { style: 'margin-top:1rem', text: 'Last snapshot' }),
      d.snapshot?.taken_at ? h('p', { class: 'muted small' }, 'Taken ', timeEl(d.snapshot.taken_at)) : null,
      hostFacts(d.snapshot),
      deviceHeadsUp(d.checks)));
  }

  async function revoke() {
    if (!confirm(`Revoke ${state.d.hostname}? It is disconnected at once and must be enrolled again to come back.`)) return;
    try { await post(`/api/v1/devices/${enc(id)}/revoke`); toast('Device revoked.'); load(); } catch (e) { if (e.status !== 401) toast(e.message, true); }
  }

  function drawLive() {
    const f = figures(state.d?.snapshot, state.telem) || {};
    const fig = (key, label, extra) => h('div', { class: 'figure' },
      h('div', { class: 'muted small', text: label }),
      h('div', { class: 'big', id: 'live-' + key, text: pct(f[key]) }),
      extra ? h('div', { class: 'muted small', text: extra }) : null,
      spark(state.hist[key]));
    liveBox.replaceChildren(
      h('h2', { id: 'live-h', text: 'Right now' }),
      h('p', { class: 'muted small', text: state.telem ? 'Live figures every 2 seconds while this page is open.' : (state.d?.online ? 'Waiting for live figures…' : 'The device is offline; these are from the last snapshot.') }),
      h('div', { class: 'live-figures' }, fig('cpu', 'CPU'), fig('mem', 'Memory', f.memText), fig('disk', 'Fullest disk', f.diskText)));
  }

  async function load() {
    try {
      state.d = await get('/api/v1/devices/' + enc(id));
    } catch (e) {
      if (e.status !== 401) info.replaceChildren(h('p', { class: 'notice', text: e.message }));
      return;
    }
    if (closed) return;
    drawInfo();
    drawLive();
  }
  const telemetry = (on) => post(`/api/v1/devices/${enc(id)}/telemetry`, { on, interval_ms: 2000 }).catch(() => {});
  const offs = [
    live.on('device.telemetry', (t) => {
      if (t.device_id !== id) return;
      state.telem = t;
      for (const [k, v] of [['cpu', t.cpu_pct], ['mem', t.mem_pct], ['disk', t.disk_pct]]) { state.hist[k].push(v); if (state.hist[k].length > 60) state.hist[k].shift(); }
      drawLive();
    }),
    live.on('device.snapshot', (s) => { if (s.device_id === id && state.d) { state.d.snapshot = s.snapshot; drawInfo(); drawLive(); } }),
    live.on('presence', (p) => { if (p.device_id === id && state.d) { state.d.online = p.online; if (p.online) telemetry(true); else state.telem = null; drawInfo(); drawLive(); } }),
    live.on('live.open', () => telemetry(true)),
    live.on('device.checks', (b) => {
      const mine = (b.checks || []).filter((c) => c.device_id === id);
      if (!mine.length || !state.d) return;
      for (const c of mine) state.d.checks = [...(state.d.checks || []).filter((x) => x.check !== c.check), c];
      drawInfo();
    }),
  ];
  load().then(() => telemetry(true));
  return () => { closed = true; offs.forEach((f) => f()); telemetry(false); };
}
