// Sign-in and first-run setup.

import { get, post } from './api.js';
import { h, field } from './util.js';

function authShell(main, title, lead, form) {
  main.append(h('div', { class: 'auth' },
    h('div', { class: 'brand' }, h('img', { src: 'favicon.svg', alt: '', width: 30, height: 30 }), 'Deskside'),
    h('p', { class: 'lead', text: lead }),
    h('section', { class: 'panel', 'aria-labelledby': 'auth-title' },
      h('h1', { id: 'auth-title', text: title }), form)));
}

// markInvalid ties the error to the fields it is about, so a screen reader
// reads it with the field (aria-describedby) and says the field is wrong
// (aria-invalid); fields not named are cleared.
function markInvalid(err, fields, bad) {
  for (const f of fields) {
    const own = (f.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== err.id);
    if (bad.includes(f)) {
      f.setAttribute('aria-invalid', 'true');
      own.push(err.id);
    } else {
      f.removeAttribute('aria-invalid');
    }
    if (own.length) f.setAttribute('aria-describedby', own.join(' '));
    else f.removeAttribute('aria-describedby');
  }
}

export function renderSignIn(main, flash, done) {
  const msg = h('div', { class: flash ? 'notice' : '', id: 'signin-message', role: 'status', text: flash || '' });
  const err = h('div', { class: 'error', id: 'signin-error', role: 'alert', hidden: true });
  // Shown while the server has no account yet: the newcomer's way in is the
  // setup link, not this form.
  const setupHint = h('p', { class: 'notice', id: 'setup-hint', hidden: true },
    'First time here? Open the setup link the server printed when it started. It is also in the file ',
    h('code', { text: 'setup-token' }), ' in the server’s data folder.');
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button', { class: 'btn', type: 'submit', text: 'Sign in' });
  const form = h('form', { id: 'signin', novalidate: true }, setupHint, msg, err,
    field('Email', email), field('Password', pass), btn);
  get('/healthz', { signedOutOK: true }).then((hz) => { setupHint.hidden = !hz?.setup_pending; }).catch(() => {})
    .finally(() => { setupHint.dataset.checked = 'yes'; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    markInvalid(err, [email, pass], []);
    if (!email.value.trim() || !pass.value) {
      err.textContent = 'Please fill in your email and password.';
      err.hidden = false;
      markInvalid(err, [email, pass], [email, pass].filter((f) => !f.value.trim()));
      (email.value.trim() ? pass : email).focus();
      return;
    }
    btn.disabled = true;
    btn.textContent = 'Signing in…';
    try {
      const data = await post('/api/v1/login', { email: email.value.trim(), password: pass.value }, { signedOutOK: true });
      done(data);
    } catch (e) {
      err.textContent = e.status === 401
        ? 'That email and password don’t match. Check them and try again.'
        : e.message;
      err.hidden = false;
      if (e.status === 401) markInvalid(err, [email, pass], [email, pass]);
      pass.value = '';
      pass.focus();
    } finally {
      btn.disabled = false;
      btn.textContent = 'Sign in';
    }
  });
  authShell(main, 'Sign in', 'The help desk for the people you work with.', form);
  email.focus();
  offerSSO(form);
}

// offerSSO puts "Sign in with …" above the password form when the server
// has single sign-on; with password sign-in off, the form stays for the
// break-glass admin, folded away.
async function offerSSO(form) {
  let m;
  try { m = await get('/api/v1/auth/methods', { signedOutOK: true }); } catch { return; }
  if (!m || !m.oidc) return;
  const sso = h('a', { class: 'btn sso', id: 'sso-signin', href: m.oidc.start, text: m.oidc.name });
  const box = h('div', { class: 'sso-box' }, sso, h('p', { class: 'small muted', text: m.password ? 'or with your email and password:' : '' }));
  form.before(box);
  if (!m.password) {
    const fold = h('details', { id: 'break-glass' }, h('summary', { text: 'Break-glass sign-in (local admin)' }));
    form.replaceWith(fold);
    fold.append(form);
  }
  sso.focus();
}

export function renderSetup(main, params, done) {
  const token = params.get('token') || '';
  const err = h('div', { class: 'error', id: 'setup-error', role: 'alert', hidden: true });
  const tok = h('input', { type: 'text', name: 'setup_token', value: token, required: true, autocomplete: 'off', spellcheck: 'false' });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'name', required: true });
  const pass = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', minlength: 10, required: true });
  const btn = h('button', { class: 'btn', type: 'submit', text: 'Create the admin account' });
  const form = h('form', { id: 'setup', novalidate: true }, err,
    token ? null : field('Setup token', tok, 'The server printed it when it first started.'),
    field('Your email', email), field('Your name', name, 'Colleagues see this when you answer them.'),
    field('Password', pass, 'At least 10 characters.'), btn);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    markInvalid(err, [tok, email, name, pass], []);
    btn.disabled = true;
    try {
      await post('/api/v1/setup', { setup_token: tok.value.trim(), email: email.value.trim(), name: name.value.trim(), password: pass.value }, { signedOutOK: true });
      const data = await post('/api/v1/login', { email: email.value.trim(), password: pass.value }, { signedOutOK: true });
      done(data);
    } catch (e) {
      err.textContent = e.status === 401 || e.status === 403
        ? 'That setup token isn’t valid any more. Setup may already be done — try signing in.'
        : e.message;
      err.hidden = false;
      if (e.status === 401 || e.status === 403) markInvalid(err, [tok], [tok]);
    } finally {
      btn.disabled = false;
      // The button disabled itself while focused: give the focus back to the form.
      if (document.activeElement === document.body || document.activeElement === btn) (token ? email : tok).focus();
    }
  });
  authShell(main, 'Welcome — let’s set up Deskside', 'Create the first admin account.', form);
  (token ? email : tok).focus();
}
