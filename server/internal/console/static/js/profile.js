// The technician's own profile: the name and greeting users see.

import { api, get, patch, session } from './api.js';
import { h, field, toast } from './util.js';

export function renderProfile(main) {
  const t = session.tech;
  const name = h('input', { type: 'text', id: 'p-name', name: 'name', value: t.name || '', required: true, autocomplete: 'name' });
  const greeting = h('input', { type: 'text', id: 'p-greeting', name: 'greeting', value: t.greeting || '', maxlength: 140, placeholder: `Hi, I'm ${t.name || 'Rob'} — I'll take care of this` });
  const preview = h('p', { class: 'msg from-tech', id: 'greeting-preview', style: 'max-width:100%' });
  const sync = () => { preview.textContent = greeting.value.trim() || `Hi, I'm ${name.value.trim() || 'your technician'} — I'll take care of this`; };
  name.addEventListener('input', sync);
  greeting.addEventListener('input', sync);
  sync();
  const pass = h('input', { type: 'password', id: 'p-pass', name: 'password', autocomplete: 'new-password', minlength: 10 });
  const current = h('input', { type: 'password', id: 'p-current', name: 'current_password', autocomplete: 'current-password' });
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const form = h('form', { class: 'panel', id: 'profile-form', style: 'max-width:40rem', 'aria-labelledby': 'p-h' },
    h('h1', { id: 'p-h', text: 'My profile' }), err,
    field('Display name', name, 'Shown to users next to your replies.'),
    field('Greeting', greeting, 'Users see this when you pick up their request.'),
    h('div', { class: 'field' }, h('div', { class: 'muted small', text: 'What they see:' }), preview),
    field('New password', pass, 'Leave empty to keep your current password.'),
    field('Current password', current, 'Needed to set a new one. Your other browsers are signed out.'),
    h('button', { class: 'btn', type: 'submit', text: 'Save' }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    const body = { name: name.value.trim(), greeting: greeting.value.trim() };
    if (pass.value) { body.password = pass.value; body.current_password = current.value; }
    try {
      const res = await patch('/api/v1/me', body);
      session.tech = { ...session.tech, ...(res?.technician || res || body) };
      document.getElementById('whoami').textContent = session.tech.name + (session.tech.role !== 'technician' ? ' · ' + session.tech.role : '');
      pass.value = '';
      current.value = '';
      toast('Saved. Users see your new greeting from now on.');
    } catch (ex) {
      if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; }
    }
  });
  main.append(form, renderNotifications());
}

// renderNotifications: which emails this person gets. Each box saves as
// soon as it changes.
function renderNotifications() {
  const panel = h('section', { class: 'panel prefs', id: 'notify-prefs', style: 'max-width:40rem', 'aria-labelledby': 'n-h' },
    h('h2', { id: 'n-h', text: 'Email me' }), h('p', { class: 'muted', text: 'Loading…' }));
  const boxes = [
    ['assigned', 'notify-assigned', 'When someone assigns a request to me'],
    ['slipping', 'notify-slipping', 'When a response target is about to slip on my requests, or on unassigned ones'],
    ['monthly_report', 'notify-monthly', 'IT’s monthly report'],
  ];
  (async () => {
    let p;
    try { p = await get('/api/v1/profile/notifications'); } catch (e) {
      if (e.status !== 401) panel.replaceChildren(h('h2', { id: 'n-h', text: 'Email me' }), h('div', { class: 'error', role: 'alert', text: e.message }));
      return;
    }
    const kids = [h('h2', { id: 'n-h', text: 'Email me' })];
    kids.push(h('p', { class: 'muted small', id: 'notify-where', text: p.email_on
      ? `Emails go to ${p.email}.`
      : `Email is not set up yet, so nothing is sent for now. An admin can turn it on in Admin → Email. Your choices are kept.` }));
    for (const [key, id, label] of boxes) {
      const box = h('input', { type: 'checkbox', id, checked: !!p[key] });
      box.addEventListener('change', async () => {
        try {
          // Every box, not just this one: two quick changes must not undo each other.
          const all = Object.fromEntries(boxes.map(([k, bid]) => [k, document.getElementById(bid).checked]));
          await api('PUT', '/api/v1/profile/notifications', all);
          toast(box.checked ? 'Saved. You will get these emails.' : 'Saved. No more of these emails.');
        } catch (e) { box.checked = !box.checked; if (e.status !== 401) toast(e.message, true); }
      });
      kids.push(h('label', { for: id }, box, h('span', { text: label })));
    }
    panel.replaceChildren(...kids);
  })();
  return panel;
}
