// Share an act: pick or drop a photo, preview it, caption and category, then a multipart upload
// (row 17) with a progress bar and a cancel button. Checks what the browser can know first
// (logged in, a category, an image it can decode, the size limit); the server checks the rest and
// its reasons are shown. A photo larger than the site ever shows is made that size here first
// (fitForUpload): a phone's 4-5 MB photo then crosses a slow uplink in seconds, not minutes.
import * as api from '../api.js';
import { h, icon, showError, toast } from '../dom.js';
import { fileSize } from '../format.js';
import { session } from '../session.js';

const ACCEPT = 'image/png,image/jpeg,image/gif,image/webp';
/** The largest side of the largest copy the site serves (app/acts/variants.ts). */
const LARGEST_SIDE = 1920;
/** A photo within LARGEST_SIDE goes as it is unless it is heavier than this. */
const LIGHT_ENOUGH_BYTES = 2 * 1024 * 1024;
const QUALITY = 0.86;

/**
 * The photo as it will be sent: within LARGEST_SIDE × LARGEST_SIDE, upright by its EXIF
 * orientation (the canvas draws it so; the server strips what metadata is left), in its own
 * format (a GIF, maybe animated, goes as it is). The original whenever that is no larger, or the
 * browser cannot redraw it.
 * @param {File} file @param {string} type the format its bytes say: image/jpeg, image/png...
 * @returns {Promise<File>}
 */
export async function fitForUpload(file, type) {
  if (type === 'image/gif' || typeof createImageBitmap !== 'function') return file;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return file; // the server judges it as it is
  }
  try {
    const scale = Math.min(1, LARGEST_SIDE / Math.max(bitmap.width, bitmap.height));
    if (scale === 1 && file.size <= LIGHT_ENOUGH_BYTES) return file;
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = h('canvas', { width: String(width), height: String(height) });
    const context = canvas.getContext('2d');
    if (!context) return file;
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, type, QUALITY));
    // A browser that cannot write the format gives PNG instead: no gain for a photo.
    if (!blob || blob.type !== type || blob.size >= file.size) return file;
    return new File([blob], file.name, { type, lastModified: file.lastModified });
  } finally {
    bitmap.close();
  }
}

export async function render(section, _params, query) {
  document.title = 'Share an act · SelfLessActs';
  if (!session.user) {
    section.append(loggedOutPanel());
    return;
  }

  const counts = await api.categories();
  if (!section.isConnected) return;
  const names = Object.keys(counts).sort((a, b) => a.localeCompare(b));
  const wanted = query.get('c');
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const picker = photoPicker(error);

  section.append(
    h(
      'a.back-link',
      { href: wanted ? `#/c/${encodeURIComponent(wanted)}` : '#/' },
      icon('back'),
      wanted ? wanted : 'All categories',
    ),
    h('h1', {}, 'Share an act'),
    h('p.lede', {}, 'A photo and a few words about something kind. It will appear at the top of its category.'),
    uploadForm({ names, wanted, picker, error }),
  );
  return picker.dispose;
}

function loggedOutPanel() {
  // Both links bring the visitor back here once they are in.
  const next = encodeURIComponent(location.hash.slice(1));
  return h(
    'div.empty.auth-needed',
    {},
    h('h1', {}, 'Share an act'),
    h('p', {}, 'Log in to share a photo of a kind act.'),
    h(
      'div.button-row',
      {},
      h('a.button.button-primary', { href: `#/login?next=${next}` }, 'Log in'),
      h('a.button', { href: `#/signup?next=${next}` }, 'Create an account'),
    ),
  );
}

/**
 * What the first bytes of a file say it is: one of the formats the server takes (it judges by
 * the same bytes), another image format people meet (named, to say so), or null.
 */
export function photoFormat(bytes) {
  const at = (offset, text) => [...text].every((c, i) => bytes[offset + i] === c.charCodeAt(0));
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return { ok: true, name: 'JPEG', article: 'a', type: 'image/jpeg' };
  if (bytes[0] === 0x89 && at(1, 'PNG')) return { ok: true, name: 'PNG', article: 'a', type: 'image/png' };
  if (at(0, 'GIF8')) return { ok: true, name: 'GIF', article: 'a', type: 'image/gif' };
  if (at(0, 'RIFF') && at(8, 'WEBP')) return { ok: true, name: 'WebP', article: 'a', type: 'image/webp' };
  if (at(4, 'ftyp')) {
    const brand = String.fromCharCode(...bytes.slice(8, 12));
    if (brand.startsWith('avi')) return { ok: false, name: 'AVIF', article: 'an' };
    if (['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(brand))
      return { ok: false, name: 'HEIC', article: 'a' };
  }
  if (at(0, 'BM')) return { ok: false, name: 'BMP', article: 'a' };
  if (at(0, 'II*\0') || at(0, 'MM\0*')) return { ok: false, name: 'TIFF', article: 'a' };
  if (bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 1 && bytes[3] === 0)
    return { ok: false, name: 'ICO', article: 'an' };
  const head = String.fromCharCode(...bytes.slice(0, 256))
    .replace(/^\uFEFF/, '')
    .trimStart();
  if (/^<(\?xml|svg|!--)/i.test(head) && /<svg/i.test(head)) return { ok: false, name: 'SVG', article: 'an' };
  return null;
}

/** Why a picked file cannot be shared, judged by what the browser says of it; '' when it may. */
function refusal(picked) {
  if (picked.type && !picked.type.startsWith('image/')) {
    return `“${picked.name}” is not an image. Choose a photo (PNG, JPEG, GIF or WebP).`;
  }
  if (picked.size > api.MAX_UPLOAD_BYTES) {
    return `“${picked.name}” is too large (${fileSize(picked.size)}). The limit is ${fileSize(api.MAX_UPLOAD_BYTES)}.`;
  }
  return '';
}

/**
 * The photo field: a file input behind a drop zone, checked and previewed as soon as photos are
 * picked (several at once: each becomes an act of its own, with the same words). `photos` are
 * those still to send, each with the format its bytes say; `sent` takes one off once it is
 * shared; `dispose` undoes what it set up outside the form.
 */
function photoPicker(error) {
  /** @type {{file: File, type: string}[]} */
  let photos = [];
  let reader = null;
  const input = h('input.visually-hidden#photo', { type: 'file', name: 'image', accept: ACCEPT, multiple: true });
  const previewImg = h('img.preview-img', { alt: '', hidden: true });
  const fileName = h('p.file-name', { 'aria-live': 'polite' });
  const drop = h('label.dropzone', { for: 'photo' }, previewImg, dropPrompt());

  const clearPreview = () => {
    reader?.abort();
    reader = null;
    previewImg.hidden = true;
    previewImg.removeAttribute('src');
    drop.classList.remove('has-preview');
  };

  const preview = (picked) => {
    previewImg.onload = () => {
      previewImg.hidden = false;
      drop.classList.add('has-preview');
    };
    // The browser decodes by content, so a renamed non-image fails here, before any upload.
    previewImg.onerror = () => {
      showError(error, `“${picked.name}” is not an image this browser can read. Choose another photo.`);
      photos = photos.filter((p) => p.file !== picked);
      clearPreview();
      describe();
      if (photos[0]) preview(photos[0].file);
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
  };

  /** Told how many photos are chosen whenever that changes. */
  let onCount = (_n) => {};
  /** The line under the preview: the photo, or how many and their names. */
  const describe = () => {
    onCount(photos.length);
    const bytes = photos.reduce((sum, p) => sum + p.file.size, 0);
    const [first] = photos;
    fileName.title = photos.map((p) => p.file.name).join(', ');
    if (!first) fileName.textContent = '';
    else if (photos.length === 1) fileName.textContent = `${first.file.name} · ${fileSize(bytes)}`;
    else
      fileName.textContent = `${photos.length} photos, an act each · ${first.file.name} and ${photos.length - 1} more · ${fileSize(bytes)}`;
  };

  /** Why one picked file cannot be shared, or its format. */
  const judge = async (picked) => {
    const reason = refusal(picked);
    if (reason) return { reason };
    // Judged by its bytes, as the server judges it: a format the browser can show but the site
    // does not take (SVG, BMP, AVIF, HEIC) is refused here, not after the whole upload.
    const format = photoFormat(new Uint8Array(await picked.slice(0, 256).arrayBuffer()));
    if (format && !format.ok) {
      return {
        reason: `“${picked.name}” is ${format.article} ${format.name} image, which SelfLessActs does not take. Choose a JPEG, PNG, GIF or WebP photo (phones and cameras save JPEG; on an iPhone, Settings › Camera › Formats › Most Compatible).`,
      };
    }
    if (!format) return { reason: `“${picked.name}” is not an image this browser can read. Choose another photo.` };
    return { type: format.type };
  };

  let picking = 0;
  const choose = async (picked) => {
    const mine = ++picking; // a later pick wins over one still being read
    showError(error, '');
    clearPreview();
    photos = [];
    describe();
    if (picked.length === 0) return;
    const judged = await Promise.all(picked.map(judge));
    if (mine !== picking) return;
    photos = picked.flatMap((file, i) => (judged[i].type ? [{ file, type: judged[i].type }] : []));
    const refused = judged.filter((j) => j.reason).map((j) => j.reason);
    if (refused.length > 0)
      showError(error, `${refused.join(' ')}${photos.length > 0 ? ' The other photos are kept.' : ''}`);
    describe();
    if (photos[0]) preview(photos[0].file);
  };

  input.addEventListener('change', () => void choose([...(input.files ?? [])]));
  const stopDrops = acceptDrops(drop, choose);
  return {
    element: h('div.upload-photo', {}, input, drop, fileName),
    input,
    get photos() {
      return photos;
    },
    /** @param {(n: number) => void} listener */
    set onCount(listener) {
      onCount = listener;
    },
    /** One photo is shared: the rest stay for the next press. */
    sent(photo) {
      photos = photos.filter((p) => p !== photo);
      describe();
      if (photos[0]) preview(photos[0].file);
    },
    dispose() {
      clearPreview();
      stopDrops();
    },
  };
}

function dropPrompt() {
  return h(
    'span.drop-text',
    {},
    icon('image'),
    h('strong', {}, 'Choose photos'),
    h('span', {}, ' or drag them here'),
    h('small', {}, `PNG, JPEG, GIF or WebP, up to ${fileSize(api.MAX_UPLOAD_BYTES)}`),
  );
}

/** Drag and drop onto the drop zone; returns what removes the page-wide listeners. */
function acceptDrops(drop, choose) {
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('dragging');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    const dropped = [...(e.dataTransfer?.files ?? [])];
    if (dropped.length > 0) void choose(dropped);
  });
  // A photo dropped just beside the drop zone must not make the browser open it instead.
  const ignoreDrop = (e) => {
    if (!drop.contains(e.target)) e.preventDefault();
  };
  window.addEventListener('dragover', ignoreDrop);
  window.addEventListener('drop', ignoreDrop);
  return () => {
    window.removeEventListener('dragover', ignoreDrop);
    window.removeEventListener('drop', ignoreDrop);
  };
}

function uploadForm({ names, wanted, picker, error }) {
  const select = h(
    'select#category',
    { name: 'categoryName', required: true },
    h('option', { value: '' }, names.length ? 'Choose a category' : 'No categories yet'),
    ...names.map((n) => h('option', { value: n, selected: n === wanted }, n)),
  );
  const caption = h('textarea#caption', { name: 'caption', rows: '4', placeholder: 'What happened? Who helped whom?' });
  // One photo's description: with several chosen, each would need its own, so the field goes.
  const alt = h('input#alt', {
    name: 'alt',
    maxlength: '300',
    placeholder: 'e.g. Two neighbours carrying a sofa up a narrow staircase',
    'aria-describedby': 'alt-hint',
  });
  const altField = h(
    'div.field',
    {},
    h('label', { for: 'alt' }, 'Describe the photo ', h('span.optional', {}, '(optional)')),
    alt,
    h('p.hint#alt-hint', {}, 'For people who use a screen reader: what can be seen in it, in a sentence.'),
  );
  picker.onCount = (n) => {
    altField.hidden = n > 1;
  };
  let upload = null;
  const cancel = h('button.button.cancel-upload', { type: 'button', hidden: true }, 'Cancel');
  cancel.addEventListener('click', () => upload?.abort());
  const progress = uploadProgress(cancel);
  const submitLabel = h('span', {}, 'Share this act');
  const submit = h('button.button.button-primary.button-wide', { type: 'submit' }, icon('upload'), submitLabel);
  select.addEventListener('change', () => showError(error, ''));

  const form = h(
    'form.upload-form',
    { novalidate: true },
    picker.element,
    h(
      'div.upload-fields',
      {},
      h('div.field', {}, h('label', { for: 'category' }, 'Category'), select),
      names.length
        ? null
        : h(
            'p.hint',
            {},
            'There are no categories yet. ',
            h('a', { href: '#/' }, 'Add one on the home page'),
            ' first.',
          ),
      h('div.field', {}, h('label', { for: 'caption' }, 'Caption'), caption),
      altField,
      error,
      progress.element,
      submit,
    ),
  );

  const fail = (message, focus) => {
    showError(error, message);
    focus?.focus();
  };
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (picker.photos.length === 0) return fail('Choose a photo to share first.', picker.input);
    if (!select.value) return fail('Choose a category for your act.', select);
    showError(error, '');
    submit.disabled = true;
    upload = new AbortController();
    const { signal } = upload;
    const total = picker.photos.length;
    try {
      // One act per photo, in turn: one at a time keeps each fast on a slow uplink.
      for (const [i, picked] of [...picker.photos].entries()) {
        progress.begin(total > 1 ? `Photo ${i + 1} of ${total} · ` : '');
        const photo = await fitForUpload(picked.file, picked.type);
        if (signal.aborted) throw Object.assign(new api.ApiError(0, 'The upload was cancelled.'), { cancelled: true });
        progress.sending(photo.size < picked.file.size ? photo.size : 0);
        await api.uploadAct(
          { file: photo, caption: caption.value, categoryName: select.value, alt: total === 1 ? alt.value : '' },
          progress.show,
          signal,
        );
        picker.sent(picked);
      }
      progress.finish();
      toast(total === 1 ? 'Thank you! Your act is shared.' : `Thank you! Your ${total} acts are shared.`, 'success');
      location.hash = `#/c/${encodeURIComponent(select.value)}`;
    } catch (err) {
      progress.reset();
      submit.disabled = false;
      // The photo, caption and category stay: one press sends them again.
      submitLabel.textContent = 'Try again';
      const left = picker.photos.length;
      const done = total - left > 0 ? `${total - left} of ${total} shared. ` : '';
      const kept = left > 1 ? `Your ${left} photos` : 'Your photo';
      fail(`${done}${err.cancelled ? `Upload cancelled. ${kept} and words are still here.` : explain(err)}`);
    } finally {
      upload = null;
    }
  });
  return form;
}

/**
 * The progress bar, its words and the cancel button: "Preparing the photo…" while it is made
 * smaller, the share sent while it goes, "Processing…" once the whole body is sent.
 */
function uploadProgress(cancel) {
  const bar = h('progress.upload-progress', { max: '100', value: '0', hidden: true, 'aria-label': 'Upload progress' });
  const text = h('span.progress-text', { 'aria-live': 'polite' });
  let resized = '';
  let which = '';
  return {
    element: h('div.progress-row', {}, bar, text, cancel),
    /** @param {string} photo "Photo 2 of 3 · " when there are several */
    begin(photo = '') {
      bar.hidden = false;
      cancel.hidden = false;
      bar.removeAttribute('value'); // indeterminate while the photo is prepared
      which = photo;
      text.textContent = `${which}Preparing the photo…`;
      resized = '';
    },
    /** @param {number} bytes what the photo was made (0: sent as it was) */
    sending(bytes) {
      bar.value = 0;
      resized = bytes > 0 ? ` (made ${fileSize(bytes)} for the web)` : '';
      text.textContent = `${which}Uploading…${resized}`;
    },
    /** @param {number} fraction */
    show(fraction) {
      bar.value = Math.round(fraction * 100);
      text.textContent =
        fraction < 1 ? `${which}Uploading… ${Math.round(fraction * 100)}%${resized}` : `${which}Processing…`;
      // The server has this one whole: too late to take it back (the next ones can still be).
      cancel.hidden = fraction >= 1 && which === '';
    },
    finish() {
      bar.value = 100;
      cancel.hidden = true;
    },
    reset() {
      bar.hidden = true;
      cancel.hidden = true;
      text.textContent = '';
    },
  };
}

function explain(err) {
  if (err.status === 401) return 'Your session has ended. Log in again to share this act.';
  if (err.status === 413)
    return `The photo is too large for the server. The limit is ${fileSize(api.MAX_UPLOAD_BYTES)}.`;
  if (err.status === 0) return err.message;
  return `The server refused the upload: ${err.message}`;
}
