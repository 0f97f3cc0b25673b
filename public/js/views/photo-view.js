// The photo view: one act's photo shown whole, over the page it was opened from, at its own
// address (#/a/<actId>) that can be shared and reloaded. Arrow keys and swipes step to the
// previous and next photo of that page (gallery.js), Escape or the close button go back.
// It is a modal <dialog>: focus stays inside while it is open and returns to the page after.
import * as api from '../api.js';
import { h, icon, toast } from '../dom.js';
import { gallery } from '../gallery.js';
import { actPicture, fitSizes } from '../photo.js';
import { zoomable } from '../zoom.js';
import { session } from '../session.js';
import { avatar, profileRoute, removeAct, upvoteButton, when } from './act-card.js';
import { commentsPanel } from './comments.js';

/** A swipe: this far sideways, and more sideways than up or down. */
const SWIPE_PX = 50;

/**
 * @param {{onClose: () => void, onStep: (actId: string) => void, onRemoved: (act: object) => void}} handlers
 *   onClose: Escape or the close button; onStep: go to another photo; onRemoved: the act is gone
 */
export function photoView({ onClose, onStep, onRemoved }) {
  const stage = h('div.pv-stage');
  const info = h('div.pv-info');
  const prev = h('button.pv-nav.pv-prev', { type: 'button', 'aria-label': 'Previous photo' }, icon('back'));
  const next = h('button.pv-nav.pv-next', { type: 'button', 'aria-label': 'Next photo' }, icon('next'));
  const close = h('button.pv-close', { type: 'button', 'aria-label': 'Close the photo' }, icon('close'));
  const dialog = h(
    'dialog.photo-view',
    { 'aria-label': 'Photo' },
    h('div.pv-layout', {}, h('div.pv-photo', {}, stage, prev, next), info),
    close,
  );
  document.body.append(dialog);

  /** @type {import('../api.js').Card | null} */
  let current = null;
  let token = 0;
  /**
   * The act shown or on its way: a step counts from it, and steps run one after another. The
   * address changes at once but the next photo is drawn a moment later (after the router hears
   * of it, or a fetch), so counting from `current` sent a key pressed meanwhile from the photo
   * being left: Right then Left came back to nothing, Right twice went one photo only.
   */
  let heading = null;
  let stepping = Promise.resolve();

  const step = (direction) => {
    stepping = stepping
      .then(async () => {
        const from = heading ?? current?.actId;
        if (!from) return;
        const other = await gallery.neighbour(from, direction);
        if (!other) return;
        heading = other.actId;
        onStep(other.actId);
      })
      .catch((err) => toast(`Could not show that photo: ${err.message}`, 'error'));
  };
  const sizes = () =>
    current ? fitSizes(current, stage.clientWidth || innerWidth, stage.clientHeight || innerHeight) : '100vw';
  const onResize = () => {
    for (const el of stage.querySelectorAll('source, img')) el.setAttribute('sizes', sizes());
  };

  prev.addEventListener('click', () => step(-1));
  next.addEventListener('click', () => step(1));
  close.addEventListener('click', () => onClose());
  dialog.addEventListener('cancel', (e) => {
    e.preventDefault(); // Escape: the router closes it, so the address changes too
    onClose();
  });
  // On the document, not the dialog: when the element that had focus is replaced (the next
  // photo's info, its comments), focus falls back to the body, and the arrows must still work.
  const onKey = (e) => {
    if (!dialog.open) return;
    if (e.target instanceof HTMLElement && e.target.closest('input, textarea, select')) return;
    if (e.key === 'ArrowLeft') step(-1);
    else if (e.key === 'ArrowRight') step(1);
  };
  document.addEventListener('keydown', onKey);
  const zoom = zoomable(stage, () => stage.querySelector('.pv-img'));
  let touchStart = null;
  stage.addEventListener(
    'touchstart',
    (e) => {
      touchStart = e.touches.length === 1 ? { x: e.touches[0].clientX, y: e.touches[0].clientY } : null;
    },
    { passive: true },
  );
  stage.addEventListener('touchend', (e) => {
    const touch = e.changedTouches[0];
    if (!touchStart || !touch) return;
    const dx = touch.clientX - touchStart.x;
    const dy = touch.clientY - touchStart.y;
    touchStart = null;
    // Zoomed, a drag moves the photo (zoom.js): it does not step to another one.
    if (zoom.zoomed) return;
    if (Math.abs(dx) >= SWIPE_PX && Math.abs(dx) > Math.abs(dy)) step(dx < 0 ? 1 : -1);
  });
  window.addEventListener('resize', onResize);

  const draw = async (card) => {
    current = card;
    zoom.reset();
    const description = card.image?.alt || card.caption || `A kind act shared by ${card.username}`;
    document.title = `${card.caption || 'Photo'} · SelfLessActs`;
    stage.replaceChildren(
      h(
        'div.photo-frame.pv-frame',
        {},
        actPicture(card, { sizes: sizes(), alt: description, lazy: false, className: 'pv-img' }),
      ),
    );
    zoom.refresh();
    const { width, height } = card.image;
    info.replaceChildren(
      card.caption ? h('p.pv-caption', {}, card.caption) : h('p.pv-caption.act-caption-empty', {}, 'No caption'),
      h(
        'div.act-meta',
        {},
        avatar(card.username),
        h(
          'div.act-byline',
          {},
          h('a.act-author', { href: profileRoute(card.username) }, card.username),
          h(
            'span.act-when',
            {},
            when(card.timestamp),
            ' · in ',
            h('a', { href: `#/c/${encodeURIComponent(card.categoryName)}` }, card.categoryName),
          ),
        ),
      ),
      h(
        'div.pv-actions',
        {},
        upvoteButton(card),
        h(
          'a.button.button-ghost.pv-original',
          { href: api.imageUrl(card.actId), target: '_blank', rel: 'noopener' },
          icon('expand'),
          h('span', {}, width && height ? `Original · ${width} × ${height}` : 'Original'),
        ),
        h(
          'button.button.button-ghost.pv-share',
          { type: 'button', 'aria-label': 'Share this act', onclick: () => void shareAct(card) },
          icon('share'),
          h('span.button-label', {}, 'Share'),
        ),
        session.user === card.username
          ? h(
              'button.button.button-ghost.remove',
              {
                type: 'button',
                'aria-label': `Remove your act${card.caption ? ` “${card.caption}”` : ''}`,
                onclick: async () => {
                  if (await removeAct(card)) onRemoved(card);
                },
              },
              icon('trash'),
              h('span.button-label', {}, 'Remove'),
            )
          : null,
      ),
      commentsPanel(card),
    );
    const mine = ++token;
    const [before, after] = await Promise.all([gallery.neighbour(card.actId, -1), gallery.neighbour(card.actId, 1)]);
    if (mine !== token) return;
    prev.hidden = before === null;
    next.hidden = after === null;
  };

  return {
    /** Shows an act (a card the page has, or one fetched); false when there is no such act. */
    async show(actId) {
      heading = actId;
      const card =
        gallery.find(actId) ??
        (await api.actById(actId).catch((err) => {
          if (err instanceof api.ApiError && err.status === 404) return null;
          throw err;
        }));
      if (!card) return false;
      if (!dialog.open) dialog.showModal();
      await draw(card);
      close.focus({ preventScroll: true });
      return true;
    },
    /** The act shown. */
    get card() {
      return current;
    },
    /** Shows or hides the arrows again (the page beneath has loaded its list). */
    async refreshNav() {
      if (!current) return;
      const [before, after] = await Promise.all([
        gallery.neighbour(current.actId, -1),
        gallery.neighbour(current.actId, 1),
      ]);
      prev.hidden = before === null;
      next.hidden = after === null;
    },
    /** Closes and removes the view; returns the act it showed (its upvotes may have changed). */
    dispose() {
      window.removeEventListener('resize', onResize);
      document.removeEventListener('keydown', onKey);
      if (dialog.open) dialog.close();
      dialog.remove();
      return current;
    },
  };
}

/**
 * The act's own address, through the system's share sheet where the browser has one (phones),
 * else copied to the clipboard; failing both, shown so it can be copied by hand.
 */
async function shareAct(card) {
  // The path, not the hash: the server answers it with the act's preview tags (a link card).
  const url = new URL(`/a/${card.actId}`, location.origin).href;
  if (typeof navigator.share === 'function') {
    try {
      await navigator.share({ title: `A kind act by ${card.username}`, text: card.caption || undefined, url });
      return;
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return; // closed the sheet: nothing to say
    }
  }
  try {
    await navigator.clipboard.writeText(url);
    toast('Link copied: paste it anywhere to share this act.', 'success');
  } catch {
    toast(`Copy this link to share the act: ${url}`, 'info');
  }
}
