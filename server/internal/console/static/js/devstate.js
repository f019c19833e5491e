// The device's state at the moment a request was raised beside its state
// now, with what changed highlighted. Used by the request view.

import { h, pct, bytes, duration, ago } from './util.js';

function fullestDisk(s) {
  let best = null;
  for (const d of s?.disks || []) if (!best || d.used_pct > best.used_pct) best = d;
  return best;
}

// figures reduces a snapshot (and optional live telemetry) to comparable numbers.
export function figures(snap, telem) {
  if (!snap && !telem) return null;
  const disk = fullestDisk(snap);
  return {
    cpu: telem?.cpu_pct ?? snap?.cpu?.usage_pct,
    mem: telem?.mem_pct ?? snap?.memory?.used_pct,
    memText: snap?.memory?.total_bytes ? `of ${bytes(snap.memory.total_bytes)}` : '',
    disk: telem?.disk_pct ?? disk?.used_pct,
    diskText: disk ? `${bytes(disk.free_bytes)} free on ${disk.mount}` : '',
    battery: snap?.battery ? snap.battery.percent : undefined,
    batteryText: snap?.battery ? snap.battery.state : '',
    uptime: snap?.host?.uptime_seconds,
    agent: snap?.agent_version,
    at: telem?.at || snap?.taken_at,
  };
}

function meter(v) {
  if (typeof v !== 'number') return null;
  const m = h('div', { class: 'meter' + (v >= 85 ? ' high' : ''), 'aria-hidden': 'true' }, h('span'));
  m.firstChild.style.width = Math.max(0, Math.min(100, v)) + '%';
  return m;
}

function cell(value, extra, changed, delta, withMeter, num) {
  return h('td', { class: changed ? 'changed' : '' },
    value, extra ? h('div', { class: 'muted small', text: extra }) : null,
    delta ? h('div', { class: 'delta', text: delta }) : null,
    withMeter ? meter(num) : null);
}

function pctRow(label, then, now, key, textKey, threshold) {
  const a = then?.[key], b = now?.[key];
  const changed = typeof a === 'number' && typeof b === 'number' && Math.abs(b - a) >= threshold;
  const delta = changed ? `${b > a ? '▲ up' : '▼ down'} ${Math.round(Math.abs(b - a))} points` : '';
  return h('tr', { 'data-row': key },
    h('th', { scope: 'row', text: label }),
    cell(pct(a), then?.[textKey], false, '', true, a),
    cell(pct(b), now?.[textKey], changed, delta, true, b));
}

// compareTable renders Then/Now. online: boolean; lastSeen: time string.
export function compareTable(thenSnap, nowSnap, telem, online, lastSeen) {
  const then = figures(thenSnap), now = figures(nowSnap, telem);
  const restarted = then?.uptime && now?.uptime && now.uptime < then.uptime;
  return h('table', { class: 'compare', id: 'compare' },
    h('caption', { class: 'visually-hidden', text: 'Device state when the request was raised and now' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Measure' })),
      h('th', { scope: 'col', text: 'When raised' }),
      h('th', { scope: 'col', text: 'Now' }))),
    h('tbody', {},
      h('tr', { 'data-row': 'online' },
        h('th', { scope: 'row', text: 'Online' }),
        h('td', { class: 'muted small', text: then?.at ? 'snapshot at ' + new Date(then.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : 'No snapshot was sent' }),
        h('td', { class: online ? '' : 'changed', id: 'now-online' },
          h('span', { class: 'dot ' + (online ? 'online' : 'offline'), 'aria-hidden': 'true' }), ' ',
          online ? 'Online now' : 'Offline',
          !online && lastSeen ? h('div', { class: 'muted small', text: 'last seen ' + ago(lastSeen) }) : null)),
      pctRow('CPU', then, now, 'cpu', '', 25),
      pctRow('Memory', then, now, 'mem', 'memText', 10),
      pctRow('Disk', then, now, 'disk', 'diskText', 5),
      then?.battery !== undefined || now?.battery !== undefined ? pctRow('Battery', then, now, 'battery', 'batteryText', 20) : null,
      h('tr', { 'data-row': 'uptime' },
        h('th', { scope: 'row', text: 'Up for' }),
        h('td', { text: duration(then?.uptime) }),
        cell(duration(now?.uptime), '', restarted, restarted ? 'Restarted since' : '')),
      h('tr', { 'data-row': 'agent' },
        h('th', { scope: 'row', text: 'Agent' }),
        h('td', { text: then?.agent || '—' }),
        cell(now?.agent || '—', '', then?.agent && now?.agent && then.agent !== now.agent, then?.agent && now?.agent && then.agent !== now.agent ? 'Updated since' : ''))));
}

// hostFacts lists what doesn't change minute to minute.
export function hostFacts(snap) {
  if (!snap) return h('p', { class: 'muted', text: 'No snapshot yet.' });
  const host = snap.host || {};
  const rows = [
    ['Computer', host.hostname], ['User', host.user], ['System', [host.platform, host.platform_version].filter(Boolean).join(' ')],
    ['Model', host.model], ['Processor', snap.cpu?.model && `${snap.cpu.model} (${snap.cpu.threads || '?'} threads)`],
    ['Memory', snap.memory?.total_bytes && bytes(snap.memory.total_bytes)],
    ['Network', (snap.network || []).filter((n) => n.up && n.addrs?.length).map((n) => `${n.name} ${n.addrs[0]}`).join(', ')],
  ].filter(([, v]) => v);
  const dl = h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
  const probs = Object.entries(snap.problems || {});
  return h('div', {}, dl,
    probs.length ? h('p', { class: 'muted small' }, 'Not collected: ' + probs.map(([k, v]) => `${k} (${v})`).join('; ')) : null,
    snap.top_cpu?.length ? h('p', { class: 'small' }, h('b', { text: 'Busiest: ' }),
      snap.top_cpu.slice(0, 3).map((p) => `${p.name} ${Math.round(p.cpu_pct)} %`).join(', ')) : null);
}
