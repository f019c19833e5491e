// The Reports page, IT's month: the month's figures, charts the server
// draws (SVG images), the tables behind them, each downloadable as CSV.
// Busiest hours are in the browser's time zone (sent as tz).

import { get } from './api.js';
import { h, CATEGORY } from './util.js';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const WEEK_ORDER = [1, 2, 3, 4, 5, 6, 0]; // Monday first

function zone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch { return 'UTC'; }
}

function thisMonth() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

const num = (n) => Number(n || 0).toLocaleString();

// minutes says a duration the way people read it.
export function minutes(m) {
  if (!m) return '—';
  if (m < 60) return Math.round(m) + ' min';
  if (m < 48 * 60) return (m / 60).toFixed(1) + ' h';
  return (m / 60 / 24).toFixed(1) + ' days';
}

function percent(t) {
  return t.met + t.missed ? t.percent.toFixed(1) + '%' : '—';
}

export function renderReports(main, month) {
  month = month || thisMonth();
  const tz = zone();
  const q = `month=${encodeURIComponent(month)}&tz=${encodeURIComponent(tz)}`;
  const picker = h('input', { type: 'month', id: 'rep-month', value: month, max: thisMonth(), min: '2000-01',
    onchange: () => { if (/^\d{4}-\d{2}$/.test(picker.value)) location.hash = '#/reports/' + picker.value; } });
  const body = h('div', { id: 'rep-body' }, h('p', { class: 'loading', text: 'Loading…' }));
  main.append(
    h('div', { class: 'page-head' }, h('h1', { text: 'Reports' }), h('span', { class: 'spacer' }),
      h('label', { for: 'rep-month', class: 'muted', text: 'Month' }), picker),
    h('p', { class: 'muted', text: `IT's month: what people asked for, how fast they heard back, how they felt about it, and what they sorted out themselves. Times are wall clock from when a request was raised; hours are in ${tz}.` }),
    body);
  let closed = false;
  (async () => {
    try {
      const rep = await get('/api/v1/reports/month?' + q);
      if (!closed) body.replaceChildren(...page(rep, q));
    } catch (e) {
      if (e.status !== 401 && !closed) body.replaceChildren(h('p', { class: 'error', role: 'alert', text: e.message }));
    }
  })();
  return () => { closed = true; };
}

function csvLink(q, table, label) {
  return h('a', { class: 'btn quiet small', href: `/api/v1/reports/month.csv?${q}&table=${table}`, download: '',
    'data-table': table, text: 'Download CSV', 'aria-label': `Download CSV of ${label.toLowerCase()}` });
}

function chart(q, name, alt) {
  return h('img', { class: 'chart', src: `/api/v1/reports/month/${name}.svg?${q}`, alt, id: 'chart-' + name });
}

function section(id, title, q, table, ...content) {
  return h('section', { class: 'panel report', 'aria-labelledby': id + '-h', id },
    h('div', { class: 'report-head' }, h('h2', { id: id + '-h', text: title }), table ? csvLink(q, table, title) : null),
    content);
}

function figure(id, value, label, hint) {
  return h('li', { class: 'figure', id }, h('b', { text: value }), h('span', { text: label }),
    hint ? h('span', { class: 'small muted', text: hint }) : null);
}

// table is a small table; wide (the hours) scrolls sideways in a region
// the keyboard can reach.
function table(cls, head, rows, wide) {
  const t = h('table', { class: cls },
    h('thead', {}, h('tr', {}, head.map(([t, num]) => h('th', { scope: 'col', class: num ? 'num' : null, text: t })))),
    h('tbody', {}, rows));
  return wide ? h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': wide }, t) : t;
}

function page(rep, q) {
  const sat = rep.satisfaction;
  const t = rep.targets;
  const figures = h('ul', { class: 'figures', id: 'rep-figures', 'aria-label': 'The month at a glance' },
    figure('fig-requests', num(rep.requests), 'requests'),
    figure('fig-first-response', minutes(rep.first_response.median_minutes), 'median first response',
      rep.first_response.count ? `90% within ${minutes(rep.first_response.p90_minutes)}` : 'no answers yet'),
    figure('fig-resolution', minutes(rep.resolution.median_minutes), 'median resolution',
      rep.resolution.count ? `90% within ${minutes(rep.resolution.p90_minutes)}` : 'none resolved yet'),
    figure('fig-targets', percent(t.first_response), 'first-response target met',
      `${num(t.first_response.met)} of ${num(t.first_response.met + t.first_response.missed)}`),
    figure('fig-satisfaction', sat.rated ? sat.average.toFixed(2) + ' ★' : '—', 'satisfaction',
      sat.rated ? `from ${num(sat.rated)} ratings` : 'no ratings yet'));

  // Requests by kind and urgency.
  const kinds = new Map();
  for (const k of rep.by_kind) {
    const row = kinds.get(k.kind) || { blocking: 0, when_you_can: 0, other: 0 };
    if (k.urgency in row) row[k.urgency] += k.count; else row.other += k.count;
    kinds.set(k.kind, row);
  }
  const kindRows = [...kinds].map(([kind, r]) => h('tr', {},
    h('th', { scope: 'row', text: CATEGORY[kind] || kind }), h('td', { class: 'num', text: num(r.blocking) }),
    h('td', { class: 'num', text: num(r.when_you_can + r.other) }),
    h('td', { class: 'num' }, h('b', { text: num(r.blocking + r.when_you_can + r.other) }))));
  const byKind = section('rep-by-kind', 'Requests by kind and urgency', q, 'by_kind',
    h('div', { class: 'report-grid' },
      chart(q, 'by_kind', 'Bar chart of requests by kind, blocking and when-you-can stacked; the table beside it has the numbers.'),
      rep.by_kind.length ? table('report', [['Kind'], ['Blocking', 1], ['When you can', 1], ['Total', 1]], kindRows)
        : h('p', { class: 'muted', text: 'No requests this month.' })));

  const respRow = (label, d, tf) => h('tr', {},
    h('th', { scope: 'row', text: label }), h('td', { class: 'num', text: num(d.count) }),
    h('td', { class: 'num', text: minutes(d.median_minutes) }), h('td', { class: 'num', text: minutes(d.p90_minutes) }),
    h('td', { class: 'num' }, h('b', { text: percent(tf) })),
    h('td', { class: 'num', text: `${num(tf.met)} / ${num(tf.missed)} / ${num(tf.pending)}` }));
  const response = section('rep-response', 'Response and resolution', q, 'response',
    table('report', [['Measure'], ['Requests', 1], ['Median', 1], ['90% within', 1], ['Target met', 1], ['Met / missed / open', 1]], [
      respRow('First response', rep.first_response, t.first_response),
      respRow('Resolution', rep.resolution, t.resolution)]),
    h('p', { class: 'small muted', text: 'A request with no answer that is already past its target counts as missed; one not due yet counts as open.' }));

  const satisfaction = section('rep-satisfaction', 'Satisfaction', q, 'satisfaction',
    h('div', { class: 'report-grid' },
      chart(q, 'satisfaction', `Column chart of ratings from 1 to 5 stars: ${sat.distribution.map((n, i) => `${n} rated ${i + 1}`).join(', ')}.`),
      table('report', [['Rating'], ['Requests', 1]], sat.distribution.map((n, i) => h('tr', {},
        h('th', { scope: 'row', text: '★'.repeat(i + 1), 'aria-label': `${i + 1} of 5` }), h('td', { class: 'num', text: num(n) }))).reverse())));

  const comments = section('rep-comments', 'What people said', q, 'comments',
    sat.comments.length ? h('ul', { class: 'plain comments', id: 'rep-comment-list' }, sat.comments.map((c) => h('li', {},
      h('span', { class: 'stars', 'aria-label': `${c.rating} of 5`, text: '★'.repeat(c.rating) + '☆'.repeat(5 - c.rating) }),
      h('q', { text: c.comment }),
      h('a', { class: 'small', href: '#/requests/' + encodeURIComponent(c.request_id), text: CATEGORY[c.kind] || c.kind }))))
      : h('p', { class: 'muted', text: 'Nobody left a comment this month.' }));

  const hoursTable = h('details', {}, h('summary', { text: 'The numbers, hour by hour' }),
    table('report hours', [['Day'], ...Array.from({ length: 24 }, (_, i) => [String(i).padStart(2, '0'), 1])],
      WEEK_ORDER.map((wd) => h('tr', {}, h('th', { scope: 'row', text: WEEKDAYS[wd].slice(0, 3) }),
        rep.hours[wd].map((n) => h('td', { class: 'num', text: n ? String(n) : '' })))), 'Requests by weekday and hour'));
  const hours = section('rep-hours', 'Busiest hours', q, 'hours',
    chart(q, 'hours', 'Heat map of requests by weekday and hour; darker is busier. The table below has the numbers.'), hoursTable);

  const selfRows = [
    ['Software brought in from the cold', rep.software.came_in, 'apps people told IT about, now approved'],
    ['“Yes, for work” answers', rep.software.answered_for_work, 'people who told IT about an app they use'],
    ['Heads-up items people fixed themselves', rep.heads_up.fixed, '“Fix it for me”, no request needed'],
    ['Questions answered by articles', rep.articles.solved, '“This solved it”'],
  ];
  const self = section('rep-self', 'What people sorted out themselves', q, 'self_service',
    table('report', [['What'], ['This month', 1]], selfRows.map(([label, n, hint]) => h('tr', {},
      h('th', { scope: 'row' }, label, h('div', { class: 'small muted', text: hint })), h('td', { class: 'num' }, h('b', { text: num(n) }))))),
    h('div', { class: 'report-grid two' },
      h('div', {}, h('div', { class: 'report-head' }, h('h3', { text: 'Heads-up fixes by check' }), csvLink(q, 'heads_up', 'heads-up fixes')),
        rep.heads_up.by_check.length ? table('report', [['Check'], ['Fixed', 1]], rep.heads_up.by_check.map((c) => h('tr', {},
          h('th', { scope: 'row', text: c.name.replaceAll('_', ' ') }), h('td', { class: 'num', text: num(c.count) }))))
          : h('p', { class: 'muted', text: 'None this month.' })),
      h('div', {}, h('div', { class: 'report-head' }, h('h3', { text: 'Articles that answered questions' }), csvLink(q, 'articles', 'articles')),
        rep.articles.top.length ? table('report', [['Article'], ['Solved', 1]], rep.articles.top.map((a) => h('tr', {},
          h('th', { scope: 'row' }, h('a', { href: '#/articles/' + encodeURIComponent(a.id), text: a.name })),
          h('td', { class: 'num', text: num(a.count) }))))
          : h('p', { class: 'muted', text: 'None this month.' }))));

  return [figures, byKind, response, h('div', { class: 'grid-2' }, satisfaction, comments), hours, self];
}
