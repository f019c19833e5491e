// Saved replies: the team's replies to start from. A reply may hold
// {{first_name}}, {{technician}} and {{device}}, filled in for the request
// when a technician picks it (buttons above the reply box, or "/" in it).

import { get, post, patch, del, enc, canChange } from './api.js';
import { h, field, timeEl, toast, actionsTh } from './util.js';
import { emptyRow } from './store.js';
import { forgetReplies } from './request.js';

export function renderReplies(main) {
  const editing = canChange();
  const tbody = h('tbody', { id: 'replies-body' }, emptyRow(3, 'Loading…'));
  const title = h('input', { type: 'text', id: 'reply-title', name: 'title', maxlength: 100, required: true, placeholder: 'Printer fixed' });
  const body = h('textarea', { id: 'reply-body', name: 'body', rows: 5, required: true,
    placeholder: 'Hi {{first_name}}, the printer works again on {{device}}. — {{technician}}' });
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { class: 'btn', type: 'submit', id: 'reply-save', text: 'Add reply' });
  const cancel = h('button', { class: 'btn quiet', type: 'button', id: 'reply-cancel', text: 'Cancel', hidden: true, onclick: () => edit(null) });
  let editingID = null;
  const heading = h('h2', { id: 'reply-form-h', text: 'New saved reply' });
  const form = editing ? h('form', { class: 'panel', id: 'reply-form', 'aria-labelledby': 'reply-form-h' }, heading, err,
    field('Title', title), field('Reply', body, 'Placeholders: {{first_name}} (their first name), {{technician}} (you), {{device}} (their computer).'),
    h('div', { class: 'row' }, submit, cancel)) : null;

  function edit(r) {
    editingID = r ? r.id : null;
    title.value = r ? r.title : '';
    body.value = r ? r.body : '';
    heading.textContent = r ? 'Edit saved reply' : 'New saved reply';
    submit.textContent = r ? 'Save' : 'Add reply';
    cancel.hidden = !r;
    if (r) title.focus();
  }
  form?.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.hidden = true;
    const v = { title: title.value.trim(), body: body.value.trim() };
    if (!v.title || !v.body) { err.textContent = 'A saved reply needs a title and a text.'; err.hidden = false; return; }
    try {
      if (editingID) await patch('/api/v1/replies/' + enc(editingID), v); else await post('/api/v1/replies', v);
      toast(editingID ? 'Saved reply updated.' : 'Saved reply added for the whole team.');
      forgetReplies();
      edit(null);
      load();
    } catch (ex) { if (ex.status !== 401) { err.textContent = ex.message; err.hidden = false; } }
  });

  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Saved replies' })),
    h('p', { class: 'muted', text: 'Shared by the whole team. In a request, pick one above the reply box or type / to search them.' }),
    h('div', { class: 'grid-ann' },
      h('section', { class: 'panel', style: 'padding:0', 'aria-labelledby': 'replies-h' },
        h('h2', { id: 'replies-h', style: 'padding:1rem 1rem 0', text: 'Replies' }),
        h('table', {}, h('thead', {}, h('tr', {}, ['Reply', 'Updated'].map((t) => h('th', { scope: 'col', text: t })), actionsTh())), tbody)),
      form));

  async function load() {
    try {
      const list = (await get('/api/v1/replies')).replies || [];
      if (!list.length) { tbody.replaceChildren(emptyRow(3, 'No saved replies yet.')); return; }
      tbody.replaceChildren(...list.map((r) => h('tr', {},
        h('td', {}, h('b', { text: r.title }), h('div', { class: 'small muted', text: r.body })),
        h('td', {}, r.updated_at && new Date(r.updated_at).getFullYear() > 1970 ? timeEl(r.updated_at) : '—'),
        h('td', { class: 'actions' }, editing ? [
          h('button', { type: 'button', class: 'btn quiet small', text: 'Edit', 'aria-label': 'Edit “' + r.title + '”', onclick: () => edit(r) }), ' ',
          h('button', { type: 'button', class: 'btn ghost small danger', text: 'Delete', 'aria-label': 'Delete “' + r.title + '”', onclick: async () => {
            if (!confirm(`Delete the saved reply “${r.title}” for the whole team?`)) return;
            try { await del('/api/v1/replies/' + enc(r.id)); forgetReplies(); toast('Saved reply deleted.'); load(); } catch (ex) { if (ex.status !== 401) toast(ex.message, true); }
          } })] : null))));
    } catch (ex) { if (ex.status !== 401) tbody.replaceChildren(emptyRow(3, ex.message)); }
  }
  load();
}
