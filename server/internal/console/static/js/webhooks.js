// Integrations (admins): outbound webhooks signed as the Standard
// Webhooks spec says, and Slack or Teams alerts. Add an endpoint, see its
// recent deliveries, send one again. The signing secret is shown once.

import { get, post, patch, del, enc } from './api.js';
import { h, field, timeEl, toast, actionsTh } from './util.js';
import { emptyRow } from './store.js';

const KIND = { standard: 'Webhook (signed)', slack: 'Slack', teams: 'Microsoft Teams' };
const EVENT = {
  'request.created': 'Request created',
  'request.updated': 'Request updated',
  'request.resolved': 'Request resolved',
  'request.rated': 'Request rated',
  'request.target_slipping': 'Response target about to slip',
  'software.reported': 'Software reported for work',
  'heads_up.fixed': 'Heads-up fixed by the person',
  'heads_up.asked': 'Heads-up: person asked IT',
};
const STATUS = { pending: 'Waiting to retry', delivered: 'Delivered', failed: 'Failed' };
const URL_HINT = {
  standard: 'https only. Deliveries are signed (webhook-id, webhook-timestamp, webhook-signature); see docs/integrations.md.',
  slack: 'The incoming webhook URL from your Slack app (https://hooks.slack.com/services/…).',
  teams: 'The URL of a Teams Workflows “When a Teams webhook request is received” flow.',
};

export function renderWebhooks(main) {
  let types = Object.keys(EVENT);
  let chatDefaults = ['request.created', 'request.target_slipping'];
  let selected = null;
  const tbody = h('tbody', { id: 'webhooks-body' }, emptyRow(4, 'Loading…'));
  const deliveries = h('section', { class: 'panel', id: 'deliveries', 'aria-labelledby': 'deliveries-h', hidden: true });

  const url = h('input', { type: 'url', id: 'wh-url', name: 'url', required: true, placeholder: 'https://hooks.example.com/deskside' });
  const kind = h('select', { id: 'wh-kind', name: 'kind' }, Object.entries(KIND).map(([v, t]) => h('option', { value: v, text: t })));
  const desc = h('input', { type: 'text', id: 'wh-desc', name: 'description', maxlength: 200, placeholder: 'Ticket system' });
  const priv = h('input', { type: 'checkbox', id: 'wh-private', name: 'allow_private' });
  const privWarn = h('p', { class: 'note-warning', id: 'wh-private-warning', hidden: true,
    text: 'This lets Deskside send to addresses inside your network (including this server itself). Only tick it for a receiver you run there.' });
  const eventsBox = h('fieldset', { class: 'checklist', id: 'wh-events' }, h('legend', { text: 'Events to send' }));
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const secretBox = h('div', { id: 'wh-secret', hidden: true });
  const urlField = field('Address', url, URL_HINT.standard);
  const form = h('form', { class: 'panel', id: 'wh-form', 'aria-labelledby': 'wh-form-h' },
    h('h2', { id: 'wh-form-h', text: 'Add an endpoint' }), err,
    field('Kind', kind), urlField, field('Description', desc),
    eventsBox,
    h('div', { class: 'field check' }, priv, h('label', { for: 'wh-private', text: 'Allow private network' })), privWarn,
    h('div', { class: 'row' }, h('button', { class: 'btn', type: 'submit', id: 'wh-save', text: 'Add endpoint' })),
    secretBox);

  function drawEvents() {
    const chat = kind.value !== 'standard';
    const boxes = types.map((t) => h('div', { class: 'field check' },
      h('input', { type: 'checkbox', id: 'ev-' + t, name: 'events', value: t, checked: chat ? chatDefaults.includes(t) : t === 'request.created' }),
      h('label', { for: 'ev-' + t, text: EVENT[t] || t })));
    eventsBox.replaceChildren(h('legend', { text: 'Events to send' }), ...boxes,
      chat ? h('p', { class: 'small muted', text: 'Chat alerts of new requests are sent only when the person said it blocks their work.' }) : null);
    urlField.querySelector('.hint').textContent = URL_HINT[kind.value];
  }
  kind.addEventListener('change', drawEvents);
  priv.addEventListener('change', () => { privWarn.hidden = !priv.checked; });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    secretBox.hidden = true;
    const events = [...eventsBox.querySelectorAll('input[name=events]:checked')].map((i) => i.value);
    try {
      const made = await post('/api/v1/webhooks', { url: url.value.trim(), kind: kind.value, description: desc.value.trim(), events, allow_private: priv.checked });
      url.value = ''; desc.value = ''; priv.checked = false; privWarn.hidden = true;
      if (made.secret) {
        secretBox.replaceChildren(h('h3', { text: 'Signing secret' }),
          h('p', { text: 'Copy it into the receiver now: it is shown only this once. The receiver verifies each delivery with it.' }),
          h('p', { class: 'secret', id: 'wh-secret-value', text: made.secret }));
        secretBox.hidden = false;
      }
      toast('Endpoint added. New events go to it from now on.');
      load(made.id);
    } catch (ex) { if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; } }
  });

  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Integrations' })),
    h('p', { class: 'muted', text: 'Send what happens on the help desk to other systems: signed webhooks, Slack or Microsoft Teams alerts.' }),
    h('div', { class: 'grid-ann' },
      h('div', {},
        h('section', { class: 'panel table-wrap', 'aria-labelledby': 'webhooks-h' },
          h('h2', { id: 'webhooks-h', text: 'Endpoints' }),
          h('table', {}, h('thead', {}, h('tr', {}, ['Endpoint', 'Events', 'State'].map((t) => h('th', { scope: 'col', text: t })), actionsTh())), tbody)),
        deliveries),
      form));

  async function load(show) {
    try {
      const r = await get('/api/v1/webhooks');
      types = r.events || types;
      chatDefaults = r.chat_default_events || chatDefaults;
      if (!eventsBox.querySelector('input')) drawEvents();
      const list = r.webhooks || [];
      if (!list.length) { tbody.replaceChildren(emptyRow(4, 'No endpoints yet. Add one on the right.')); return; }
      tbody.replaceChildren(...list.map((w) => h('tr', { 'data-id': w.id },
        h('td', {}, h('b', { text: w.description || KIND[w.kind] }), h('div', { class: 'small muted wh-url', text: `${KIND[w.kind]} · ${w.url}` }),
          w.allow_private ? h('span', { class: 'tag sev-warning', text: 'Private network allowed' }) : null),
        h('td', { class: 'small', text: (w.events || []).map((t) => EVENT[t] || t).join(', ') }),
        h('td', {}, h('span', { class: 'tag' + (w.disabled ? '' : ' st-resolved'), text: w.disabled ? 'Paused' : 'On' })),
        h('td', { class: 'actions' },
          h('button', { type: 'button', class: 'btn quiet small', text: 'Deliveries', 'aria-label': 'Deliveries of ' + (w.description || w.url), onclick: () => showDeliveries(w) }), ' ',
          h('button', { type: 'button', class: 'btn ghost small', text: w.disabled ? 'Resume' : 'Pause', onclick: async () => {
            try { await patch('/api/v1/webhooks/' + enc(w.id), { disabled: !w.disabled }); load(); } catch (ex) { if (ex.status !== 401) toast(ex.message, true); }
          } }), ' ',
          h('button', { type: 'button', class: 'btn ghost small danger', text: 'Delete', onclick: async () => {
            if (!confirm(`Delete the endpoint ${w.url}? Its delivery history goes with it.`)) return;
            try { await del('/api/v1/webhooks/' + enc(w.id)); toast('Endpoint deleted.'); if (selected && selected.id === w.id) deliveries.hidden = true; load(); } catch (ex) { if (ex.status !== 401) toast(ex.message, true); }
          } })))));
      const pick = list.find((w) => w.id === (show || (selected && selected.id)));
      if (pick) showDeliveries(pick);
    } catch (ex) { if (ex.status !== 401) tbody.replaceChildren(emptyRow(4, ex.message)); }
  }

  async function showDeliveries(w) {
    selected = w;
    const body = h('tbody', { id: 'deliveries-body' }, emptyRow(5, 'Loading…'));
    deliveries.replaceChildren(h('div', { class: 'panel-head' }, h('h2', { id: 'deliveries-h', text: 'Recent deliveries · ' + (w.description || w.url) }),
      h('button', { type: 'button', class: 'btn quiet small', id: 'deliveries-refresh', text: 'Refresh', onclick: () => showDeliveries(w) })),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['Event', 'Status', 'Tries', 'Last answer'].map((t) => h('th', { scope: 'col', text: t })), actionsTh())), body)));
    deliveries.hidden = false;
    try {
      const ds = (await get('/api/v1/webhooks/' + enc(w.id) + '/deliveries?limit=50')).deliveries || [];
      if (!ds.length) { body.replaceChildren(emptyRow(5, 'Nothing sent yet. Deliveries appear here as events happen.')); return; }
      body.replaceChildren(...ds.map((d) => h('tr', { 'data-delivery': d.id },
        h('td', {}, h('div', { text: EVENT[d.event_type] || d.event_type }), h('div', { class: 'small muted' }, timeEl(d.created_at))),
        h('td', {}, h('span', { class: 'tag' + (d.status === 'delivered' ? ' st-resolved' : d.status === 'failed' ? ' sev-outage' : ' sev-warning'), text: STATUS[d.status] || d.status }),
          d.status === 'pending' && d.attempts > 0 ? h('div', { class: 'small muted' }, 'next try ', timeEl(d.next_attempt_at)) : null),
        h('td', { text: String(d.attempts) }),
        h('td', { class: 'small' }, d.last_error ? h('span', { class: 'error-text', text: d.last_error }) : (d.last_status ? 'HTTP ' + d.last_status : '—')),
        h('td', { class: 'actions' }, d.status === 'pending' ? null : h('button', { type: 'button', class: 'btn quiet small', text: 'Send again',
          'aria-label': 'Send again: ' + (EVENT[d.event_type] || d.event_type), onclick: async (e) => {
            e.target.disabled = true;
            try { await post('/api/v1/webhooks/' + enc(w.id) + '/deliveries/' + enc(d.id) + '/retry'); toast('Queued to send again.'); }
            catch (ex) { if (ex.status !== 401) toast(ex.message, true); }
            showDeliveries(w);
          } })))));
    } catch (ex) { if (ex.status !== 401) body.replaceChildren(emptyRow(5, ex.message)); }
  }

  drawEvents();
  load();
}
