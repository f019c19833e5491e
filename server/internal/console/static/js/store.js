// The queue's state, kept live from the console WebSocket so that any page
// (and the sidebar count) sees new requests at once, and the alert for a new
// "blocking my work" request plays wherever the technician is.

import { get, session } from './api.js';
import * as live from './live.js';
import { h, STATUS } from './util.js';
import { slippingToast } from './sla.js';

export const requests = new Map(); // request_id → protocol.RequestSummary
export const techNames = new Map(); // technician id → name
const subs = new Set();
let offs = [];
let loaded = false;

// subscribe calls fn(event) on every change: {kind:'load'|'created'|'updated', request}.
export function subscribe(fn) { subs.add(fn); return () => subs.delete(fn); }
function notify(ev) { for (const fn of subs) fn(ev); updateBadge(); }
export function isLoaded() { return loaded; }

export async function load() {
  const data = await get('/api/v1/requests');
  requests.clear();
  for (const r of data.requests || []) requests.set(r.request_id, r);
  loaded = true;
  notify({ kind: 'load' });
}

export async function loadTechnicians() {
  if (session.tech) techNames.set(session.tech.id, session.tech.name);
  if (session.tech?.role !== 'admin') return;
  try {
    const data = await get('/api/v1/technicians');
    for (const t of data.technicians || []) techNames.set(t.id, t.name || t.email);
  } catch { /* names are a nicety */ }
}

export function upsert(r, kind = 'updated') {
  const prev = requests.get(r.request_id);
  requests.set(r.request_id, { ...prev, ...r });
  notify({ kind: prev ? 'updated' : kind, request: requests.get(r.request_id) });
}

export function start() {
  stop();
  techNames.clear();
  loadTechnicians();
  load().catch(() => {});
  offs = [
    live.on('request.created', (r) => { const isNew = !requests.has(r.request_id); upsert(r, 'created'); if (isNew) alertNew(r); }),
    live.on('request.updated', (r) => upsert(r)),
    // A response target is slipping: a toast for the assignee, or for
    // everyone when nobody is assigned.
    live.on('request.slipping', (b) => { if (b.request) upsert(b.request); slippingToast(b); }),
    // After a reconnect, catch up on what happened while the link was down.
    live.on('live.open', () => { if (loaded) load().catch(() => {}); }),
    live.on('console.hello', (b) => { if (b.technician_id && b.name) techNames.set(b.technician_id, b.name); }),
  ];
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  document.addEventListener('keydown', unlockAudio, { once: true });
}

export function stop() {
  for (const off of offs) off();
  offs = [];
  requests.clear();
  loaded = false;
  updateBadge();
}

function updateBadge() {
  const el = document.getElementById('nav-open');
  if (!el) return;
  let n = 0;
  for (const r of requests.values()) if (r.status !== 'resolved') n++;
  el.textContent = n ? String(n) : '';
  el.setAttribute('aria-label', `${n} open ${n === 1 ? 'request' : 'requests'}`);
}

// --- Alerts for new "blocking my work" requests --------------------------

let audio = null;
function unlockAudio() {
  // Browsers allow sound only after a user gesture; make the context then.
  try { audio ??= new AudioContext(); audio.resume(); } catch { audio = null; }
}

export function soundOn() { return localStorage.getItem('deskside.sound') !== 'off'; }
export function setSound(on) { localStorage.setItem('deskside.sound', on ? 'on' : 'off'); }

// beep plays two short, soft notes: noticeable, not alarming.
export function beep() {
  if (!audio || audio.state !== 'running') return false;
  const t = audio.currentTime;
  for (const [i, f] of [[0, 660], [1, 880]]) {
    const o = audio.createOscillator(), g = audio.createGain();
    o.type = 'sine';
    o.frequency.value = f;
    const s = t + i * 0.16;
    g.gain.setValueAtTime(0.0001, s);
    g.gain.exponentialRampToValueAtTime(0.15, s + 0.02);
    g.gain.exponentialRampToValueAtTime(0.0001, s + 0.14);
    o.connect(g).connect(audio.destination);
    o.start(s);
    o.stop(s + 0.15);
  }
  return true;
}

export let lastAlert = null; // for tests and the page: what we last alerted about

function alertNew(r) {
  if (r.urgency !== 'blocking') return;
  lastAlert = { id: r.request_id, sound: false, notification: false };
  if (soundOn()) lastAlert.sound = beep();
  if ('Notification' in window && Notification.permission === 'granted' && document.visibilityState !== 'visible') {
    const n = new Notification(`Blocking: ${r.user || r.hostname}`, { body: r.text, tag: r.request_id });
    n.onclick = () => { window.focus(); location.hash = '#/requests/' + encodeURIComponent(r.request_id); };
    lastAlert.notification = true;
  }
  document.title = '• New request — Deskside';
  const reset = () => { if (document.visibilityState === 'visible') document.title = 'Deskside'; };
  setTimeout(reset, 8000);
}

export function techLabel(id) {
  if (!id) return 'Nobody yet';
  if (session.tech && id === session.tech.id) return 'You';
  return techNames.get(id) || 'Another technician';
}

export function statusOptions() {
  return Object.entries(STATUS);
}

export function emptyRow(cols, text) {
  return h('tr', {}, h('td', { colspan: cols, class: 'empty', text }));
}
