// The console's live link: /ws/console carries protocol envelopes
// (console.hello, presence, presence.batch, request.created,
// request.updated, request.thread, device.message, device.snapshot,
// device.telemetry, device.checks).
// A presence.batch (many devices at once, during a reconnect storm) reaches
// listeners as one presence event per device. It reconnects with
// exponential backoff and full jitter, and before each retry asks the server
// whether the session still stands, so an ended session goes to sign-in
// instead of retrying for ever.

import { session, get, endSession } from './api.js';

const listeners = new Map();
let ws = null;
let attempt = 0;
let timer = null;
let wanted = false;
let statusEl = null;

// on subscribes fn to frames of a type ('*' for all); it returns an unsubscribe.
export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}

function emit(env) {
  for (const key of [env.type, '*']) {
    for (const fn of listeners.get(key) || []) {
      try { fn(env.body || {}, env); } catch (e) { console.error('live listener', e); }
    }
  }
}

function setStatus(state, text) {
  statusEl ??= document.getElementById('live');
  if (!statusEl) return;
  statusEl.dataset.state = state;
  statusEl.querySelector('.live-text').textContent = text;
}

export function connect() {
  wanted = true;
  clearTimeout(timer);
  if (ws && ws.readyState <= 1) return;
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${proto}//${location.host}/ws/console?csrf=${encodeURIComponent(session.csrf)}`;
  setStatus('connecting', attempt ? 'Reconnecting…' : 'Connecting…');
  const sock = new WebSocket(url);
  ws = sock;
  sock.onopen = () => { attempt = 0; setStatus('live', 'Live'); emit({ type: 'live.open', body: {} }); };
  sock.onmessage = (ev) => {
    let env;
    try { env = JSON.parse(ev.data); } catch { return; }
    if (!env || !env.type) return;
    if (env.type === 'presence.batch') {
      for (const p of (env.body && env.body.devices) || []) emit({ ...env, type: 'presence', body: p });
      return;
    }
    emit(env);
  };
  sock.onclose = (ev) => {
    if (ws !== sock) return;
    ws = null;
    if (!wanted) return;
    if (ev.code === 4007) { wanted = false; endSession(); return; } // the session ended on the server
    retry();
  };
}

function retry() {
  attempt++;
  // Full jitter, capped at 30 s: a restarted server is not stampeded.
  const cap = Math.min(30000, 1000 * 2 ** Math.min(attempt, 5));
  const delay = Math.random() * cap;
  setStatus('retrying', 'Offline — reconnecting');
  timer = setTimeout(async () => {
    try {
      await get('/api/v1/session'); // a 401 here ends the session and stops us
    } catch (e) {
      if (e.status === 401) return;
    }
    if (wanted) connect();
  }, delay);
}

export function disconnect() {
  wanted = false;
  clearTimeout(timer);
  attempt = 0;
  if (ws) { const s = ws; ws = null; s.close(1000, 'signed out'); }
  setStatus('off', 'Offline');
}

export function isOpen() { return !!ws && ws.readyState === 1; }
