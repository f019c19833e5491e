// Small helpers shared by every page: building DOM safely (text is always
// set as text, never parsed as HTML), words for codes, times and sizes.

// h builds an element. attrs: "class", "text", "on<event>" handlers,
// boolean attributes as true/false, everything else via setAttribute.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = v;
    else if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// field wraps a control with its label (and an optional hint) so every
// input is labelled for screen readers.
let fieldSeq = 0;
export function field(label, control, hint) {
  if (!control.id) control.id = 'f' + (++fieldSeq);
  const kids = [h('label', { for: control.id, text: label }), control];
  if (hint) {
    const hid = control.id + '-hint';
    control.setAttribute('aria-describedby', hid);
    kids.push(h('div', { class: 'hint', id: hid, text: hint }));
  }
  return h('div', { class: 'field' }, kids);
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

export const CATEGORY = {
  problem: 'Something isn’t working',
  question: 'A question',
  software: 'Software they use or need',
  idea: 'An idea',
};
export const URGENCY = { blocking: 'Blocking my work', when_you_can: 'When you can' };
export const STATUS = {
  new: 'New',
  in_progress: 'In progress',
  waiting_on_user: 'Waiting on them',
  reopened: 'Reopened',
  resolved: 'Resolved',
};

export function categoryTag(c) {
  return h('span', { class: 'tag cat-' + c, text: CATEGORY[c] || c });
}
export function urgencyTag(u) {
  return h('span', { class: 'tag' + (u === 'blocking' ? ' blocking' : ''), text: URGENCY[u] || u });
}
export function statusTag(s) {
  return h('span', { class: 'tag st-' + s, text: STATUS[s] || s });
}

// ago says how long ago t was in words a person reads at a glance.
export function ago(t, now = Date.now()) {
  const ms = now - new Date(t).getTime();
  if (!isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return m + ' min ago';
  const hr = Math.round(m / 60);
  if (hr < 24) return hr + (hr === 1 ? ' hour ago' : ' hours ago');
  const d = Math.round(hr / 24);
  if (d < 31) return d + (d === 1 ? ' day ago' : ' days ago');
  return new Date(t).toLocaleDateString();
}

// timeEl is a <time> that shows "5 min ago" and refreshes itself
// (see refreshTimes), with the exact time as a tooltip.
export function timeEl(t) {
  const d = new Date(t);
  return h('time', { datetime: d.toISOString(), title: d.toLocaleString(), 'data-ago': '', text: ago(t) });
}
// refreshTimes writes a time only when its words change: rewriting every
// one every 30 s would make screen readers (and the DOM) churn for nothing.
export function refreshTimes(root = document) {
  for (const el of root.querySelectorAll('time[data-ago]')) {
    const text = ago(el.getAttribute('datetime'));
    if (el.textContent !== text) el.textContent = text;
  }
}

export function bytes(n) {
  if (!n && n !== 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n < 10 ? 1 : 0) : n) + ' ' + units[i];
}
export function pct(n) {
  return (typeof n === 'number' && isFinite(n)) ? Math.round(n) + ' %' : '—';
}
export function duration(sec) {
  if (!sec) return '—';
  const d = Math.floor(sec / 86400), hr = Math.floor(sec % 86400 / 3600), m = Math.floor(sec % 3600 / 60);
  if (d) return `${d} d ${hr} h`;
  if (hr) return `${hr} h ${m} min`;
  return `${m} min`;
}

export function toast(text, bad = false) {
  const el = h('div', { class: 'toast' + (bad ? ' bad' : ''), text });
  document.getElementById('toasts').append(el);
  setTimeout(() => el.remove(), 4500);
}

export function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

export function osName(os) {
  return { linux: 'Linux', windows: 'Windows', darwin: 'macOS' }[os] || os || '—';
}

// actionsTh heads a column of buttons: sighted people see the buttons, a
// screen reader hears "Actions" (an empty header names nothing).
export function actionsTh() {
  return h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', text: 'Actions' }));
}
