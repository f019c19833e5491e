// Self-help articles: IT writes an answer once, and people find it in Get
// help while they type (or offline). The list shows what each article
// did — opened, "This solved it", requests raised after it — and the
// editor previews the article as the employee will read it.

import { get, post, patch, del, enc, canChange } from './api.js';
import { h, field, timeEl, toast, osName, debounce } from './util.js';
import { emptyRow } from './store.js';

const OSES = [['windows', 'Windows'], ['darwin', 'macOS'], ['linux', 'Linux']];

// showHTML puts the server's rendered article into el. The server renders
// with goldmark and sanitises with bluemonday (no script, no javascript:
// links, no event handlers); DOMParser builds an inert document (its
// scripts never run) whose nodes are moved in, and the console's CSP
// refuses inline script besides.
export function showHTML(el, html) {
  const doc = new DOMParser().parseFromString(html || '', 'text/html');
  el.replaceChildren(...Array.from(doc.body.childNodes).map((n) => document.importNode(n, true)));
}

// draft is what "Turn this reply into an article" hands to the editor.
let pending = null;
export function startArticle(d) { pending = d; location.hash = '#/articles/new'; }

export function renderArticles(main, id) {
  const editing = canChange();
  const tbody = h('tbody', { id: 'articles-body' }, emptyRow(5, 'Loading…'));
  const search = h('input', { type: 'search', id: 'articles-q', name: 'q', placeholder: 'Search (typos are fine)…', autocomplete: 'off' });
  const newBtn = editing ? h('a', { class: 'btn', href: '#/articles/new', id: 'article-new', text: 'New article' }) : null;
  const editor = h('div', { id: 'article-editor-slot' });

  main.append(h('div', { class: 'page-head' }, h('h1', { text: 'Help articles' }), h('span', { class: 'spacer' }), newBtn),
    h('p', { class: 'muted', text: 'People see these in Get help while they type, and keep the most read ones for when they are offline.' }),
    h('div', { class: id ? 'grid-articles editing' : 'grid-articles' },
      h('section', { class: 'panel', style: 'padding:0', 'aria-labelledby': 'articles-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'articles-h', text: 'Articles' }), field('Search', search)),
        h('table', { class: 'articles' }, h('thead', {}, h('tr', {},
          [['Article', ''], ['Opened', 'num'], ['Solved it', 'num'], ['Asked anyway', 'num'], ['Updated', 'col-updated']].map(([t, c]) =>
            h('th', { scope: 'col', class: c, text: t })))), tbody)),
      editor));

  async function load() {
    try {
      const q = search.value.trim();
      const data = await get('/api/v1/articles' + (q ? '?q=' + enc(q) : ''));
      const list = data.articles || [];
      if (!list.length) { tbody.replaceChildren(emptyRow(5, q ? 'No article matches.' : 'No articles yet. Write the answer you give most often.')); return; }
      tbody.replaceChildren(...list.map((a) => h('tr', { class: a.id === id ? 'selected' : '' },
        h('td', {}, h('a', { href: '#/articles/' + enc(a.id), class: 'rowlink', text: a.title }),
          h('div', { class: 'art-meta' }, h('span', { class: 'tag ' + (a.published ? 'published' : 'draft'), text: a.published ? 'Published' : 'Draft' }),
            a.pinned ? h('span', { class: 'tag pin', text: 'Pinned' }) : null,
            h('span', { class: 'small muted', text: [(a.os && a.os.length ? a.os.map(osName).join(', ') : 'Every computer'), ...(a.tags || [])].join(' · ') }))),
        h('td', { class: 'num', text: String(a.views || 0) }),
        h('td', { class: 'num', text: String(a.solved || 0) }),
        h('td', { class: 'num', text: String(a.requests_after || 0) }),
        h('td', { class: 'col-updated' }, timeEl(a.updated_at)))));
    } catch (e) {
      if (e.status !== 401) tbody.replaceChildren(emptyRow(5, e.message));
    }
  }
  search.addEventListener('input', debounce(load, 250));
  load();

  if (id) openEditor(editor, id === 'new' ? null : id, load);
  return () => {};
}

async function openEditor(slot, id, reload) {
  const editing = canChange();
  let art = { title: '', body: '', tags: [], os: [], published: false, pinned: false };
  if (id) {
    try { art = await get('/api/v1/articles/' + enc(id)); } catch (e) { slot.replaceChildren(h('p', { class: 'error', role: 'alert', text: e.message })); return; }
  } else if (pending) {
    art = { ...art, ...pending };
    pending = null;
  }
  const title = h('input', { type: 'text', id: 'article-title', name: 'title', maxlength: 200, required: true, value: art.title, readonly: !editing,
    placeholder: 'The printer on floor 2 says offline' });
  const body = h('textarea', { id: 'article-body', name: 'body', rows: 11, value: art.body, readonly: !editing,
    placeholder: '1. Turn the printer off and on.\n2. …' });
  const tags = h('input', { type: 'text', id: 'article-tags', name: 'tags', value: (art.tags || []).join(', '), readonly: !editing, placeholder: 'printing, floor 2' });
  const osBoxes = OSES.map(([v, label]) => h('label', { class: 'checkbox' },
    h('input', { type: 'checkbox', name: 'os', value: v, checked: (art.os || []).includes(v), disabled: !editing }), ' ' + label));
  const pinned = h('input', { type: 'checkbox', id: 'article-pinned', name: 'pinned', checked: !!art.pinned, disabled: !editing });
  const preview = h('div', { class: 'article-view', id: 'article-preview' });
  const previewTitle = h('h3', { class: 'article-view-title', text: art.title || 'Your title' });
  const err = h('div', { class: 'error', role: 'alert', hidden: true });
  const status = h('span', { class: 'tag ' + (art.published ? 'published' : 'draft'), id: 'article-status', text: art.published ? 'Published' : 'Draft' });

  const render = debounce(async () => {
    previewTitle.textContent = title.value.trim() || 'Your title';
    try {
      const r = await post('/api/v1/articles/preview', { body: body.value });
      showHTML(preview, r.html);
    } catch (e) {
      if (e.status !== 401) { preview.replaceChildren(h('p', { class: 'error', text: e.message })); }
    }
  }, 200);
  title.addEventListener('input', render);
  body.addEventListener('input', render);
  showHTML(preview, art.html || '');
  render();

  const values = () => ({
    title: title.value.trim(), body: body.value,
    tags: tags.value.split(',').map((s) => s.trim()).filter(Boolean),
    os: osBoxes.map((l) => l.querySelector('input')).filter((c) => c.checked).map((c) => c.value),
    pinned: pinned.checked,
  });
  async function save(extra) {
    err.hidden = true;
    const v = { ...values(), ...extra };
    if (!v.title) { err.textContent = 'Give the article a title people would search for.'; err.hidden = false; title.focus(); return; }
    try {
      const saved = id ? await patch('/api/v1/articles/' + enc(id), v) : await post('/api/v1/articles', v);
      toast(saved.published ? 'Saved — people see it in Get help now.' : 'Saved as a draft.');
      if (!id) { location.hash = '#/articles/' + enc(saved.id); return; }
      art = saved;
      status.className = 'tag ' + (saved.published ? 'published' : 'draft');
      status.textContent = saved.published ? 'Published' : 'Draft';
      publishBtn.textContent = saved.published ? 'Unpublish' : 'Publish';
      reload();
    } catch (e) {
      if (e.status !== 401) { err.textContent = e.message; err.hidden = false; }
    }
  }
  const saveBtn = h('button', { class: 'btn quiet', type: 'submit', id: 'article-save', text: 'Save' });
  const publishBtn = h('button', { class: 'btn', type: 'button', id: 'article-publish', text: art.published ? 'Unpublish' : 'Publish',
    onclick: () => save({ published: !art.published }) });
  const delBtn = id ? h('button', { class: 'btn ghost danger', type: 'button', id: 'article-delete', text: 'Delete',
    onclick: async () => {
      if (!confirm('Delete this article? People will no longer find it.')) return;
      try { await del('/api/v1/articles/' + enc(id)); toast('Article deleted.'); location.hash = '#/articles'; } catch (e) { if (e.status !== 401) toast(e.message, true); }
    } }) : null;

  const form = h('form', { class: 'panel article-form', id: 'article-form', 'aria-labelledby': 'article-form-h' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'article-form-h', text: id ? 'Edit article' : 'New article' }), status),
    err, field('Title', title),
    h('div', { class: 'editor-split' },
      field('Answer (Markdown)', body, '**bold**, *italic*, lists with 1. or -, [links](https://…).'),
      h('section', { class: 'preview', 'aria-labelledby': 'preview-h' },
        h('h3', { id: 'preview-h', class: 'preview-h', text: 'How people see it in Get help' }),
        h('div', { class: 'article-card' }, previewTitle, preview))),
    h('div', { class: 'row' }, field('Tags (comma-separated)', tags),
      h('fieldset', { class: 'field oses' }, h('legend', { text: 'For (none ticked: every computer)' }), osBoxes)),
    h('label', { class: 'checkbox', for: 'article-pinned' }, pinned, ' Pin it: every computer keeps it offline'),
    editing ? h('div', { class: 'actions' }, saveBtn, publishBtn, h('span', { class: 'spacer' }), delBtn) : null);
  form.addEventListener('submit', (e) => { e.preventDefault(); save({}); });
  slot.replaceChildren(form);
}
