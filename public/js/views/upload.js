// Share an act: pick or drop a photo, preview it, caption and category, then a multipart upload
// (row 17) with a progress bar. Checks what the browser can know first (logged in, a category,
// an image it can decode, the size limit); the server checks the rest and its reasons are shown.
import * as api from '../api.js';
import { h, icon, showError, toast } from '../dom.js';
import { fileSize } from '../format.js';
import { session } from '../session.js';

const ACCEPT = 'image/png,image/jpeg,image/gif,image/webp';

export async function render(section, _params, query) {
  document.title = 'Share an act · SelfLessActs';
  if (!session.user) {
    section.append(
      h(
        'div.empty.auth-needed',
        {},
        h('h1', {}, 'Share an act'),
        h('p', {}, 'Log in to share a photo of a kind act.'),
        h(
          'div.button-row',
          {},
          h('a.button.button-primary', { href: `#/login?next=${encodeURIComponent(location.hash.slice(1))}` }, 'Log in'),
          h('a.button', { href: `#/signup?next=${encodeURIComponent(location.hash.slice(1))}` }, 'Create an account'),
        ),
      ),
    );
    return;
  }

  const counts = await api.categories();
  if (!section.isConnected) return;
  const names = Object.keys(counts).sort((a, b) => a.localeCompare(b));
  const wanted = query.get('c');

  let file = null;
  let reader = null;
  const fileInput = h('input.visually-hidden#photo', { type: 'file', name: 'image', accept: ACCEPT });
  const previewImg = h('img.preview-img', { alt: '', hidden: true });
  const dropText = h(
    'span.drop-text',
    {},
    icon('image'),
    h('strong', {}, 'Choose a photo'),
    h('span', {}, ' or drag it here'),
    h('small', {}, `PNG, JPEG, GIF or WebP, up to ${fileSize(api.MAX_UPLOAD_BYTES)}`),
  );
  const fileName = h('p.file-name', { 'aria-live': 'polite' });
  const drop = h('label.dropzone', { for: 'photo' }, previewImg, dropText);
  const select = h(
    'select#category',
    { name: 'categoryName', required: true },
    h('option', { value: '' }, names.length ? 'Choose a category' : 'No categories yet'),
    ...names.map((n) => h('option', { value: n, selected: n === wanted }, n)),
  );
  const caption = h('textarea#caption', { name: 'caption', rows: '4', placeholder: 'What happened? Who helped whom?' });
  const progress = h('progress.upload-progress', { max: '100', value: '0', hidden: true, 'aria-label': 'Upload progress' });
  const progressText = h('span.progress-text', { 'aria-live': 'polite' });
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const submit = h('button.button.button-primary.button-wide', { type: 'submit' }, icon('upload'), h('span', {}, 'Share this act'));

  const clearPreview = () => {
    reader?.abort();
    reader = null;
    previewImg.hidden = true;
    previewImg.removeAttribute('src');
    drop.classList.remove('has-preview');
  };

  const choose = (picked) => {
    showError(error, '');
    clearPreview();
    file = null;
    fileName.textContent = '';
    if (!picked) return;
    if (picked.type && !picked.type.startsWith('image/')) {
      showError(error, `“${picked.name}” is not an image. Choose a photo (PNG, JPEG, GIF or WebP).`);
      return;
    }
    if (picked.size > api.MAX_UPLOAD_BYTES) {
      showError(error, `“${picked.name}” is too large (${fileSize(picked.size)}). The limit is ${fileSize(api.MAX_UPLOAD_BYTES)}.`);
      return;
    }
    file = picked;
    previewImg.onload = () => {
      previewImg.hidden = false;
      drop.classList.add('has-preview');
    };
    // The browser decodes by content, so a renamed non-image fails here, before any upload.
    previewImg.onerror = () => {
      showError(error, `“${picked.name}” is not an image this browser can read. Choose another photo.`);
      file = null;
      clearPreview();
      fileName.textContent = '';
    };
    // A data: URL rather than a blob: one: the app's Content-Security-Policy allows images from
    // 'self' and data: only. It stays on this page; the upload sends the file itself.
    const current = new FileReader();
    reader = current;
    current.onload = () => {
      previewImg.src = String(current.result);
    };
    current.readAsDataURL(picked);
    previewImg.alt = `Preview of ${picked.name}`;
    fileName.textContent = `${picked.name} · ${fileSize(picked.size)}`;
  };

  fileInput.addEventListener('change', () => choose(fileInput.files?.[0] ?? null));
  select.addEventListener('change', () => showError(error, ''));
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('dragging');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const dropped = e.dataTransfer?.files?.[0];
    if (dropped) choose(dropped);
  });
  // A photo dropped just beside the drop zone must not make the browser open it instead.
  const ignoreDrop = (e) => {
    if (!drop.contains(e.target)) e.preventDefault();
  };
  window.addEventListener('dragover', ignoreDrop);
  window.addEventListener('drop', ignoreDrop);

  const form = h(
    'form.upload-form',
    { novalidate: true },
    h('div.upload-photo', {}, fileInput, drop, fileName),
    h(
      'div.upload-fields',
      {},
      h('div.field', {}, h('label', { for: 'category' }, 'Category'), select),
      names.length ? null : h('p.hint', {}, 'There are no categories yet. ', h('a', { href: '#/' }, 'Add one on the home page'), ' first.'),
      h('div.field', {}, h('label', { for: 'caption' }, 'Caption'), caption),
      error,
      h('div.progress-row', {}, progress, progressText),
      submit,
    ),
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!file) return fail('Choose a photo to share first.', fileInput);
    if (!select.value) return fail('Choose a category for your act.', select);
    showError(error, '');
    submit.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    progressText.textContent = 'Uploading…';
    try {
      await api.uploadAct({ file, caption: caption.value, categoryName: select.value }, (fraction) => {
        progress.value = Math.round(fraction * 100);
        progressText.textContent = fraction < 1 ? `Uploading… ${Math.round(fraction * 100)}%` : 'Processing…';
      });
      progress.value = 100;
      toast('Thank you! Your act is shared.', 'success');
      location.hash = `#/c/${encodeURIComponent(select.value)}`;
    } catch (err) {
      progress.hidden = true;
      progressText.textContent = '';
      submit.disabled = false;
      fail(explain(err));
    }
  });

  function fail(message, focus) {
    showError(error, message);
    focus?.focus();
  }

  section.append(
    h('a.back-link', { href: wanted ? `#/c/${encodeURIComponent(wanted)}` : '#/' }, icon('back'), wanted ? wanted : 'All categories'),
    h('h1', {}, 'Share an act'),
    h('p.lede', {}, 'A photo and a few words about something kind. It will appear at the top of its category.'),
    form,
  );
  return () => {
    clearPreview();
    window.removeEventListener('dragover', ignoreDrop);
    window.removeEventListener('drop', ignoreDrop);
  };
}

function explain(err) {
  if (err.status === 401) return 'Your session has ended. Log in again to share this act.';
  if (err.status === 413) return `The photo is too large for the server. The limit is ${fileSize(api.MAX_UPLOAD_BYTES)}.`;
  if (err.status === 0) return err.message;
  return `The server refused the upload: ${err.message}`;
}
