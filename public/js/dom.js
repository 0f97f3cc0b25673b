// DOM helpers. Text always goes in through textContent, so names and captions from the server
// can never become markup.

/**
 * h('a.button', {href: '#/'}, 'Home'), h('input#name.wide'): an element with an id, classes,
 * attributes/properties and children.
 * Keys starting with "on" add listeners; `dataset` and `style` (CSS property names, custom
 * properties included) objects are merged in.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(/^[a-z][a-z0-9-]*/i.exec(tag)?.[0] ?? 'div');
  const id = /#([\w-]+)/.exec(tag)?.[1];
  if (id) el.id = id;
  const classes = Array.from(tag.matchAll(/\.([\w-]+)/g), (m) => m[1]);
  if (classes.length) el.className = classes.join(' ');
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'style') for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
    else if (key === 'class') el.className = [el.className, value].filter(Boolean).join(' ');
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Inline SVG icons, drawn here so that nothing is fetched from elsewhere. */
const ICONS = {
  search:
    '<circle cx="10.5" cy="10.5" r="6" fill="none" stroke="currentColor" stroke-width="2"/><path d="M15 15l5 5" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
  heart: '<path d="M12 20.5s-8-4.9-8-10.7A4.6 4.6 0 0 1 12 7a4.6 4.6 0 0 1 8 2.8c0 5.8-8 10.7-8 10.7z"/>',
  trash:
    '<path d="M5 7h14M10 7V5h4v2M7 7l1 12h8l1-12" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
  upload:
    '<path d="M12 16V5M7 10l5-5 5 5M5 19h14" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
  image:
    '<rect x="3" y="4" width="18" height="16" rx="3" fill="none" stroke="currentColor" stroke-width="2"/><circle cx="9" cy="10" r="2"/><path d="M4 18l5-5 4 4 3-3 4 4" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>',
  back: '<path d="M15 5l-7 7 7 7" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>',
  next: '<path d="M9 5l7 7-7 7" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"/>',
  close: '<path d="M6 6l12 12M18 6L6 18" fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round"/>',
  expand:
    '<path d="M14 4h6v6M10 20H4v-6M20 4l-7 7M4 20l7-7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
  share:
    '<path d="M12 15V4M8 8l4-4 4 4M6 12v7h12v-7" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>',
};

export function icon(name) {
  const span = document.createElement('span');
  span.className = `icon icon-${name}`;
  span.setAttribute('aria-hidden', 'true');
  span.innerHTML = `<svg viewBox="0 0 24 24" fill="currentColor" focusable="false">${ICONS[name]}</svg>`;
  return span;
}

/**
 * A short message in the corner; errors (and messages with a link to act on) stay a little
 * longer; at most two at a time.
 * @param {{label: string, href: string}} [action]
 */
export function toast(message, kind = 'info', action) {
  const box = document.getElementById('toasts');
  const item = h(
    `div.toast.toast-${kind}`,
    {},
    message,
    action ? [' ', h('a.toast-action', { href: action.href, onclick: () => item.remove() }, action.label)] : null,
  );
  box.append(item);
  while (box.children.length > 2) box.firstElementChild.remove();
  setTimeout(() => item.remove(), kind === 'error' || action ? 7000 : 3500);
}

/** A modal confirmation (the <dialog> in index.html). Resolves true when confirmed. */
export function confirmDialog({ title, text, confirmLabel }) {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('confirm'));
  dialog.querySelector('#confirm-title').textContent = title;
  dialog.querySelector('#confirm-text').textContent = text;
  dialog.querySelector('#confirm-ok').textContent = confirmLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

/** Announces an error next to a form, in a live region that screen readers read out. */
export function showError(region, message) {
  region.textContent = message;
  region.hidden = !message;
}
