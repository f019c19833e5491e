// Admin → Email: the mail server technicians' emails go through, a test
// email sent on the spot, and how the outbox is doing.

import { api, get, post } from './api.js';
import { h, field, select, timeEl, toast } from './util.js';

const PORTS = { starttls: 587, tls: 465, none: 25 };

export function renderEmail(main) {
  const host = h('input', { type: 'text', id: 'email-host', name: 'host', autocomplete: 'off', placeholder: 'smtp.example.com', spellcheck: 'false' });
  const port = h('input', { type: 'number', id: 'email-port', name: 'port', min: 1, max: 65535, value: 587 });
  const security = select('security', [['starttls', 'STARTTLS (usually port 587)'], ['tls', 'TLS (usually port 465)'], ['none', 'None — only for a relay on this machine']], 'starttls');
  security.id = 'email-security';
  const user = h('input', { type: 'text', id: 'email-user', name: 'username', autocomplete: 'off', spellcheck: 'false' });
  const pass = h('input', { type: 'password', id: 'email-pass', name: 'password', autocomplete: 'new-password' });
  const clearPass = h('input', { type: 'checkbox', id: 'email-clear-pass' });
  const clearWrap = h('label', { class: 'small', hidden: true }, clearPass, ' Remove the saved password');
  const from = h('input', { type: 'email', id: 'email-from', name: 'from', autocomplete: 'off', placeholder: 'it@example.com' });
  const fromName = h('input', { type: 'text', id: 'email-from-name', name: 'from_name', autocomplete: 'off', placeholder: 'Acme IT' });
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const result = h('div', { id: 'email-test-result', role: 'status', hidden: true });
  const testBtn = h('button', { class: 'btn quiet', type: 'button', id: 'email-test', text: 'Send a test email' });
  const saved = h('span', { class: 'small muted', id: 'email-saved' });

  let lastSecurity = 'starttls';
  security.addEventListener('change', () => {
    // Follow the usual port unless someone typed their own.
    if (Number(port.value) === PORTS[lastSecurity]) port.value = PORTS[security.value];
    lastSecurity = security.value;
  });

  const form = h('form', { class: 'panel', id: 'email-form', 'aria-labelledby': 'email-form-h' },
    h('h2', { id: 'email-form-h', text: 'Mail server' }), err,
    field('Host', host, 'Your mail provider’s SMTP server. Leave it empty to turn email off; queued emails wait.'),
    h('div', { class: 'pair' }, field('Security', security), field('Port', port)),
    h('div', { class: 'pair' }, field('Username', user), field('Password', pass, 'Kept on the server, never shown again.')), clearWrap,
    h('div', { class: 'pair' }, field('From address', from), field('From name', fromName)),
    h('div', { class: 'row-actions' }, h('button', { class: 'btn', type: 'submit', text: 'Save' }), testBtn, saved),
    result);

  const counts = h('p', { id: 'email-counts', class: 'muted', text: 'Loading…' });
  const problems = h('ul', { id: 'email-problems', class: 'mail-problems' });
  const outbox = h('section', { class: 'panel', 'aria-labelledby': 'email-outbox-h' },
    h('h2', { id: 'email-outbox-h', text: 'Outbox' }), counts,
    h('p', { class: 'small muted', text: 'Emails wait here and are retried for a day when the mail server is down or says no; after that they are marked failed.' }),
    problems);

  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Email' })),
    h('p', { class: 'muted', text: 'Technicians get an email when a request is assigned to them or a target is about to slip; each chooses which in My profile.' }),
    h('div', { class: 'grid-2' }, form, outbox));

  function show(st) {
    host.value = st.host || '';
    port.value = st.port || PORTS[st.security || 'starttls'];
    security.value = st.security || 'starttls';
    lastSecurity = security.value;
    user.value = st.username || '';
    pass.value = '';
    pass.placeholder = st.password_set ? '•••••••• saved' : '';
    clearPass.checked = false;
    clearWrap.hidden = !st.password_set;
    from.value = st.from || '';
    fromName.value = st.from_name || '';
    saved.textContent = st.updated_at ? `Saved by ${st.updated_by || 'an admin'} ` : (st.host ? '' : 'Email is off until a mail server is saved.');
    if (st.updated_at) saved.append(timeEl(st.updated_at), '.');
    testBtn.disabled = !st.host;
    const o = st.outbox || {};
    counts.textContent = `${o.queued || 0} waiting · ${o.sent || 0} sent · ${o.failed || 0} failed`;
    const items = (o.problems || []).map((m) => h('li', {},
      h('div', { class: 'mail-subject', text: m.subject }),
      h('div', { class: 'small muted' }, `To ${(m.to || []).join(', ')} · `, timeEl(m.created_at),
        ` · ${m.attempts} ${m.attempts === 1 ? 'try' : 'tries'}${m.status === 'failed' ? ' · gave up' : ''}`),
      h('div', { class: 'small mail-error', text: m.last_error })));
    problems.replaceChildren(...(items.length ? items : [h('li', { class: 'muted', text: 'No problems: every email went out.' })]));
  }

  async function load() {
    try { show(await get('/api/v1/settings/email')); } catch (e) { if (e.status !== 401) { err.textContent = e.message; err.hidden = false; } }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    result.hidden = true;
    const body = { host: host.value.trim(), port: Number(port.value) || 0, security: security.value, username: user.value.trim(),
      from: from.value.trim(), from_name: fromName.value.trim() };
    if (pass.value) body.password = pass.value;
    else if (clearPass.checked) body.password = '';
    try {
      show(await api('PUT', '/api/v1/settings/email', body));
      toast(body.host ? 'Saved. Send a test email to check it works.' : 'Saved. Email is off.');
    } catch (ex) { if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; } }
  });

  testBtn.addEventListener('click', async () => {
    testBtn.disabled = true;
    result.hidden = false;
    result.className = 'notice';
    result.replaceChildren('Sending…');
    try {
      const r = await post('/api/v1/settings/email/test');
      result.className = 'notice ok';
      result.replaceChildren(`Sent to ${r.to}. If it is not in the inbox in a minute, look in spam.`);
    } catch (ex) {
      if (ex.status === 401) return;
      result.className = 'error';
      const kids = [h('strong', { text: ex.message })];
      if (ex.body?.detail) kids.push(h('details', {}, h('summary', { text: 'What the mail server said' }), h('code', { text: ex.body.detail })));
      result.replaceChildren(...kids);
    } finally {
      testBtn.disabled = false;
      load();
    }
  });

  load();
}
