// Admin pages: technicians and enrolment tokens.

import { api, get, post, patch, del, enc, session } from './api.js';
import { h, field, select, timeEl, toast, actionsTh } from './util.js';
import { emptyRow } from './store.js';

export function renderTechnicians(main) {
  const tbody = h('tbody', {}, emptyRow(5, 'Loading…'));
  const email = h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off' });
  const name = h('input', { type: 'text', name: 'name', required: true, autocomplete: 'off' });
  const pass = h('input', { type: 'password', name: 'password', required: true, autocomplete: 'new-password', minlength: 10 });
  const role = select('role', [['technician', 'Technician'], ['admin', 'Admin'], ['viewer', 'Viewer (read-only)']], 'technician');
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'panel', id: 'tech-form', 'aria-labelledby': 'tech-new' },
    h('h2', { id: 'tech-new', text: 'Add a technician' }), err,
    field('Email', email), field('Name', name), field('First password', pass, 'They can change it under My profile.'), field('Role', role),
    h('button', { class: 'btn', type: 'submit', text: 'Add technician' }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    try {
      await post('/api/v1/technicians', { email: email.value.trim(), name: name.value.trim(), password: pass.value, role: role.value });
      toast(`${name.value.trim()} can sign in now.`);
      form.reset();
      load();
    } catch (ex) { if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; } }
  });
  const signIn = h('section', { class: 'panel', id: 'sign-in-settings', 'aria-labelledby': 'sign-in-head', hidden: true });
  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Technicians' })),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel', style: 'padding:0', 'aria-label': 'Technicians' },
        h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Email', 'Role', 'Status'].map((t) => h('th', { scope: 'col', text: t })), actionsTh())), tbody)),
      h('div', {}, form, signIn)));
  loadSignIn();

  // Password sign-in for everyone but the break-glass admins: on or off,
  // offered once company sign-in is set up.
  async function loadSignIn() {
    let st;
    try { st = await get('/api/v1/settings/sign-in'); } catch { return; }
    if (!st.oidc) return;
    const box = h('input', { type: 'checkbox', id: 'password-login', checked: st.password_login });
    box.addEventListener('change', async () => {
      try {
        await api('PUT', '/api/v1/settings/sign-in', { password_login: box.checked });
        toast(box.checked ? 'Password sign-in is on.' : 'Password sign-in is off, except for break-glass admins.');
      } catch (e) { box.checked = !box.checked; if (e.status !== 401) toast(e.message, true); }
    });
    signIn.replaceChildren(h('h2', { id: 'sign-in-head', text: 'Sign-in' }),
      h('label', {}, box, ' Technicians may also sign in with a password'),
      h('p', { class: 'small muted', text: 'Break-glass admins can always use their password, so someone can get in when company sign-in is down.' }));
    signIn.hidden = false;
  }

  async function change(t, body, ok) {
    try { await patch('/api/v1/technicians/' + enc(t.id), body); toast(ok); load(); } catch (e) { if (e.status !== 401) toast(e.message, true); }
  }
  async function load() {
    try {
      const data = await get('/api/v1/technicians');
      tbody.replaceChildren(...(data.technicians || []).map((t) => {
        const me = t.id === session.tech.id;
        const roleSel = select('role', [['technician', 'Technician'], ['admin', 'Admin'], ['viewer', 'Viewer (read-only)']], t.role);
        roleSel.setAttribute('aria-label', 'Role of ' + (t.name || t.email));
        roleSel.disabled = me;
        roleSel.addEventListener('change', () => change(t, { role: roleSel.value }, 'Role changed.'));
        return h('tr', {},
          h('td', { text: (t.name || '—') + (me ? ' (you)' : '') }), h('td', { text: t.email }), h('td', {}, roleSel),
          h('td', {}, t.disabled ? 'Disabled' : 'Active',
            t.break_glass ? h('span', { class: 'badge break-glass', title: 'Local admin who can sign in with a password when company sign-in is down', text: 'Break-glass' }) : null,
            t.auth_method === 'oidc' ? h('span', { class: 'badge', title: 'Signs in with the company account', text: 'Company sign-in' }) : null),
          h('td', {}, me ? null : h('button', { class: 'btn small ' + (t.disabled ? 'quiet' : 'danger'), type: 'button', text: t.disabled ? 'Enable' : 'Disable',
            onclick: () => change(t, { disabled: !t.disabled }, t.disabled ? 'Enabled.' : 'Disabled. They are signed out.') })));
      }));
    } catch (e) { if (e.status !== 401) tbody.replaceChildren(emptyRow(5, e.message)); }
  }
  load();
}

export function renderTokens(main) {
  const tbody = h('tbody', {}, emptyRow(6, 'Loading…'));
  const group = h('input', { type: 'text', name: 'group', value: 'default', required: true });
  const hours = h('input', { type: 'number', name: 'expires_in_hours', value: '168', min: '0' });
  const uses = h('input', { type: 'number', name: 'max_uses', value: '0', min: '0' });
  const shown = h('div', { id: 'token-shown', 'aria-live': 'polite' });
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'panel', id: 'token-form', 'aria-labelledby': 'tok-new' },
    h('h2', { id: 'tok-new', text: 'Make an enrolment token' }), err,
    field('Group', group, 'Devices enrolled with it join this group.'),
    h('div', { class: 'row' }, field('Expires after (hours)', hours, '0 = never'), field('How many devices', uses, '0 = no limit')),
    h('button', { class: 'btn', type: 'submit', text: 'Make token' }), shown);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    try {
      const t = await post('/api/v1/tokens', { group: group.value.trim() || 'default', expires_in_hours: Number(hours.value) || 0, max_uses: Number(uses.value) || 0 });
      const code = h('p', { class: 'secret', id: 'token-value', text: t.token });
      shown.replaceChildren(h('div', { class: 'notice', style: 'margin-top:1rem' },
        h('p', {}, h('b', { text: 'Copy it now — it is shown only once.' })), code,
        h('button', { class: 'btn quiet small', type: 'button', text: 'Copy',
          onclick: async () => { try { await navigator.clipboard.writeText(t.token); toast('Copied.'); } catch { getSelection().selectAllChildren(code); toast('Press Ctrl+C to copy.'); } } }),
        h('p', { class: 'small muted', style: 'margin-top:.5rem', text: 'On the computer: agent enroll <server> <token>, or give it to the installer.' })));
      load();
    } catch (ex) { if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; } }
  });
  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Enrolment tokens' })),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel', style: 'padding:0', 'aria-label': 'Enrolment tokens' },
        h('table', {}, h('thead', {}, h('tr', {}, ['Group', 'Made', 'Expires', 'Used', 'Status'].map((t) => h('th', { scope: 'col', text: t })), actionsTh())), tbody)),
      form));
  async function load() {
    try {
      const data = await get('/api/v1/tokens');
      const list = data.tokens || [];
      if (!list.length) { tbody.replaceChildren(emptyRow(6, 'No tokens yet.')); return; }
      tbody.replaceChildren(...list.map((t) => {
        const expired = t.expires_at && new Date(t.expires_at) < new Date();
        const used = t.max_uses && t.uses >= t.max_uses;
        const status = t.revoked ? 'Revoked' : expired ? 'Expired' : used ? 'Used up' : 'Active';
        return h('tr', {},
          h('td', { text: t.group }), h('td', {}, t.created_at ? timeEl(t.created_at) : '—'),
          h('td', { text: t.expires_at ? new Date(t.expires_at).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : 'Never' }),
          h('td', { text: `${t.uses || 0}${t.max_uses ? ' of ' + t.max_uses : ''}` }),
          h('td', { text: status }),
          h('td', {}, status === 'Active' ? h('button', { class: 'btn danger small', type: 'button', text: 'Revoke', 'aria-label': 'Revoke the token for ' + t.group,
            onclick: async () => { if (!confirm('Revoke this token? Devices already enrolled stay enrolled.')) return; try { await del('/api/v1/tokens/' + enc(t.id)); toast('Token revoked.'); load(); } catch (e) { if (e.status !== 401) toast(e.message, true); } } }) : null));
      }));
    } catch (e) { if (e.status !== 401) tbody.replaceChildren(emptyRow(6, e.message)); }
  }
  load();
}

// renderAudit shows the audit log: sign-ins (method and address), failed
// sign-ins, role changes, ended sessions and every admin action.
export function renderAudit(main) {
  const body = h('tbody', {});
  main.append(h('section', { class: 'panel', 'aria-labelledby': 'audit-h' },
    h('h1', { id: 'audit-h', text: 'Audit log' }),
    h('p', { class: 'muted small', text: 'The latest 200 entries, newest first.' }),
    h('table', { class: 'table', id: 'audit-table' },
      h('thead', {}, h('tr', {}, ...['When', 'Who', 'What', 'On', 'Details'].map((t) => h('th', { scope: 'col', text: t })))), body)));
  (async () => {
    try {
      const res = await get('/api/v1/audit?limit=200');
      const rows = res.entries || res.audit || [];
      if (!rows.length) { body.append(emptyRow(5, 'Nothing recorded yet.')); return; }
      body.replaceChildren(...rows.map((e) => h('tr', {},
        h('td', {}, timeEl(e.at)), h('td', { text: e.actor }), h('td', { text: e.action }),
        h('td', { text: e.target }), h('td', { text: e.detail || '' }))));
    } catch (e) {
      if (e.status !== 401) toast(e.message, true);
    }
  })();
}
