// The console's entry point: session check, hash routing, the chrome
// around pages (top bar, sidebar) and sign-in/out.

import { session, get, post, onSessionEnded } from './api.js';
import * as live from './live.js';
import * as store from './store.js';
import { h } from './util.js';
import { renderSignIn, renderSetup } from './auth.js';
import { renderQueue } from './queue.js';
import { renderRequest } from './request.js';
import { renderDevices, renderDevice } from './devices.js';
import { renderAnnouncements } from './announce.js';
import { renderProfile } from './profile.js';
import { renderTechnicians, renderTokens, renderAudit } from './admin.js';
import { renderUpdates } from './updates.js';
import { renderEmail } from './email.js';
import { renderHeadsUp, renderCheckDevices } from './headsup.js';
import { renderArticles } from './articles.js';
import { renderReplies } from './replies.js';
import { renderSoftware, renderSoftwareTitle } from './software.js';
import { renderSLA } from './sla.js';
import { renderWebhooks } from './webhooks.js';
import { renderReports } from './reports.js';

const main = document.getElementById('main');
const appEl = document.getElementById('app');
let cleanup = null;
let flash = '';
let routed = false;

const routes = [
  [/^\/queue$/, 'queue', renderQueue],
  [/^\/requests\/([^/]+)$/, 'queue', renderRequest],
  [/^\/devices$/, 'devices', renderDevices],
  [/^\/devices\/([^/]+)$/, 'devices', renderDevice],
  [/^\/announcements$/, 'announcements', renderAnnouncements, 'staff'],
  [/^\/profile$/, 'profile', renderProfile],
  [/^\/admin\/technicians$/, 'technicians', renderTechnicians, 'admin'],
  [/^\/admin\/tokens$/, 'tokens', renderTokens, 'admin'],
  [/^\/admin\/updates$/, 'updates', renderUpdates, 'admin'],
  [/^\/admin\/email$/, 'email', renderEmail, 'admin'],
  [/^\/admin\/audit$/, 'audit', renderAudit, 'admin'],
  [/^\/admin\/sla$/, 'sla', renderSLA, 'admin'],
  [/^\/admin\/webhooks$/, 'webhooks', renderWebhooks, 'admin'],
  [/^\/heads-up$/, 'heads-up', renderHeadsUp],
  [/^\/heads-up\/([^/]+)$/, 'heads-up', renderCheckDevices],
  [/^\/articles(?:\/([^/]+))?$/, 'articles', renderArticles],
  [/^\/replies$/, 'replies', renderReplies],
  [/^\/software$/, 'software', renderSoftware],
  [/^\/software\/([^/]+)$/, 'software', renderSoftwareTitle],
  [/^\/reports(?:\/(\d{4}-\d{2}))?$/, 'reports', renderReports],
];

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/queue';
  const [path, query = ''] = raw.split('?');
  return { path, params: new URLSearchParams(query) };
}

function setChrome(signedIn) {
  appEl.dataset.state = signedIn ? 'signed-in' : 'signed-out';
  document.getElementById('topbar').hidden = !signedIn;
  document.getElementById('sidebar').hidden = !signedIn;
  if (signedIn) {
    const t = session.tech;
    document.getElementById('whoami').textContent = `${t.name || t.email}${t.role !== 'technician' ? ' · ' + t.role : ''}`;
    document.querySelector('.admin-only').hidden = t.role !== 'admin';
    for (const el of document.querySelectorAll('.staff-only')) el.hidden = t.role === 'viewer';
  }
}

async function route() {
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  const { path, params } = parseHash();
  main.replaceChildren();
  if (path === '/setup') {
    setChrome(false);
    cleanup = renderSetup(main, params, signedIn);
    return;
  }
  if (!session.tech) {
    setChrome(false);
    // The message stays until the next sign-in: the session may end (the
    // socket closes with 4007) just before the technician moves on.
    cleanup = renderSignIn(main, flash, signedIn);
    return;
  }
  setChrome(true);
  for (const [re, nav, render, who] of routes) {
    const m = path.match(re);
    if (!m) continue;
    for (const a of document.querySelectorAll('[data-nav]')) {
      if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    if (who === 'admin' && session.tech.role !== 'admin') {
      main.append(h('p', { class: 'notice', text: 'This page is for admins. Ask an admin if you need something changed here.' }));
      return;
    }
    if (who === 'staff' && session.tech.role === 'viewer') {
      main.append(h('p', { class: 'notice', text: 'Your role can read the queue and the devices. Ask an admin if you need more.' }));
      return;
    }
    cleanup = render(main, decodeURIComponent(m[1] || ''), params) || null;
    // Move focus to the new page so keyboard and screen-reader users land
    // there, but not on first load, where Tab should start at the top.
    if (routed) main.focus({ preventScroll: true });
    routed = true;
    return;
  }
  location.hash = '#/queue';
}

// signedIn is called by the sign-in and setup pages with the login answer.
function signedIn(data) {
  flash = '';
  session.tech = data.technician;
  session.csrf = data.csrf_token;
  store.start();
  live.connect();
  const { path } = parseHash();
  if (path === '/setup' || path === '/signin' || path === '') location.hash = '#/queue';
  else route();
}

function signedOut(message) {
  session.tech = null;
  session.csrf = '';
  live.disconnect();
  store.stop();
  flash = message || '';
  route();
}

onSessionEnded(() => {
  if (session.tech) signedOut('Your session ended — please sign in again.');
});

document.getElementById('signout').addEventListener('click', async () => {
  try { await post('/api/v1/logout', {}, { signedOutOK: true }); } catch { /* signed out either way */ }
  signedOut('You’ve signed out. See you soon.');
});

window.addEventListener('hashchange', route);

async function boot() {
  if (parseHash().path !== '/setup') {
    try {
      const data = await get('/api/v1/session', { signedOutOK: true });
      session.tech = data.technician;
      session.csrf = data.csrf_token;
      store.start();
      live.connect();
    } catch (e) {
      if (e.status !== 401) flash = e.message;
    }
  }
  route();
}

boot();
