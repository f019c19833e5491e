// The REST client. The session cookie is HttpOnly, so JavaScript never sees
// it; the CSRF token lives only in memory and goes out as X-CSRF-Token on
// every state-changing call. A 401 from any call means the session ended.

export const session = { tech: null, csrf: '' };

export class APIError extends Error {
  constructor(status, code, message, data = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.data = data; // the answer's body, e.g. field errors
    this.body = data; // the same, as pages that show more call it (a mail server's reply)
  }
}

let onEnded = () => {};
// onSessionEnded registers what to do when the server says we are signed out.
export function onSessionEnded(fn) { onEnded = fn; }
// endSession says the server ended our session (the console socket closed
// with 4007: signed out elsewhere, disabled, password or role changed).
export function endSession() { onEnded(); }

// canChange: a viewer reads; the console hides what would only be refused.
export const canChange = () => !!session.tech && session.tech.role !== 'viewer';

const friendly = {
  0: 'We can’t reach the Deskside server. Check your connection and try again.',
  403: 'You don’t have permission to do that. An admin can help.',
  404: 'That isn’t here any more. It may have been removed.',
  429: 'That was a lot of attempts. Please wait a minute and try again.',
  500: 'Something went wrong on the server. Please try again in a moment.',
};

// api calls the server. opts.signedOutOK: a 401 is an answer, not the end
// of a session (the first session check, sign-in itself).
export async function api(method, path, body, opts = {}) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') init.headers['X-CSRF-Token'] = session.csrf || '';
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new APIError(0, 'network', friendly[0]);
  }
  let data = null;
  if ((res.headers.get('Content-Type') || '').includes('json')) {
    try { data = await res.json(); } catch { data = null; }
  }
  if (res.status === 401 && !opts.signedOutOK) {
    onEnded();
    throw new APIError(401, 'signed_out', 'Your session ended — please sign in again.');
  }
  if (!res.ok) {
    const msg = (data && data.message) || friendly[res.status] || friendly[res.status >= 500 ? 500 : 0];
    throw new APIError(res.status, (data && data.error) || 'http_' + res.status, msg, data);
  }
  return data;
}

export const get = (p, o) => api('GET', p, undefined, o);
export const post = (p, b, o) => api('POST', p, b === undefined ? {} : b, o);
export const patch = (p, b) => api('PATCH', p, b);
export const del = (p) => api('DELETE', p);

export const enc = encodeURIComponent;
