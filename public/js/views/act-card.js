// One act as a card: photo (row 18, lazy), caption, author, time, upvotes (row 13) and, for
// its author, removal (row 14). Used by the home page and by the feeds (act-feed.js).
import * as api from '../api.js';
import { confirmDialog, h, icon, toast } from '../dom.js';
import { hueFor, initial, parseStamp, plural } from '../format.js';
import { session } from '../session.js';

export function avatar(name) {
  return h('span.avatar', { 'aria-hidden': 'true', style: { '--hue': String(hueFor(name)) } }, initial(name));
}

/**
 * @param {{actId: string, username: string, timestamp: string, caption: string, upvotes: number, categoryName: string}} act
 * @param {{showCategory?: boolean, onRemoved?: (act: object) => void}} options
 */
export function actCard(act, { showCategory = false, onRemoved } = {}) {
  const when = parseStamp(act.timestamp);
  const description = act.caption || `A kind act shared by ${act.username}`;
  const actions = h('div.act-actions', {}, upvoteButton(act));
  const card = h(
    'article.act-card',
    { dataset: { actId: act.actId }, 'aria-label': `Act by ${act.username}` },
    h(
      'div.act-photo',
      {},
      h('img', {
        src: api.imageUrl(act.actId),
        alt: description,
        loading: 'lazy',
        decoding: 'async',
        onerror: (e) => e.currentTarget.closest('.act-photo').classList.add('act-photo-missing'),
      }),
    ),
    h(
      'div.act-body',
      {},
      act.caption ? h('p.act-caption', {}, act.caption) : h('p.act-caption.act-caption-empty', {}, 'No caption'),
      h(
        'div.act-meta',
        {},
        avatar(act.username),
        h(
          'div.act-byline',
          {},
          h('span.act-author', {}, act.username),
          h(
            'span.act-when',
            {},
            when ? h('time', { datetime: when.iso }, when.label) : act.timestamp,
            showCategory ? [' · in ', h('a', { href: `#/c/${encodeURIComponent(act.categoryName)}` }, act.categoryName)] : null,
          ),
        ),
      ),
      actions,
    ),
  );
  if (session.user === act.username) actions.append(removeButton(act, card, onRemoved));
  return card;
}

/**
 * With API_ACCESS=owner a listing tells a logged-in user which acts they upvoted
 * (act.upvotedByMe): the button then shows that, counts once, and a second click takes the
 * upvote back. Without the field (open mode, or logged out) every click is one more upvote.
 */
function upvoteButton(act) {
  let count = Number(act.upvotes);
  const once = typeof act.upvotedByMe === 'boolean';
  let liked = act.upvotedByMe === true;
  const number = h('span.upvote-count', {}, String(count));
  const button = h('button.upvote', { type: 'button' }, icon('heart'), number);
  const show = () => {
    number.textContent = count.toLocaleString('en');
    button.classList.toggle('upvoted', liked);
    if (once) button.setAttribute('aria-pressed', String(liked));
    const action = once && liked ? 'Take back your upvote of act' : 'Upvote act';
    button.setAttribute('aria-label', `${action} by ${act.username} (${plural(count, 'upvote')})`);
  };
  show();
  button.addEventListener('click', async () => {
    const takingBack = once && liked;
    // Optimistic: the count moves at once; a refusal puts it back and says why.
    count += takingBack ? -1 : 1;
    liked = once && !takingBack;
    show();
    if (!takingBack) {
      button.classList.remove('upvote-pop');
      void button.offsetWidth; // restart the animation on repeated clicks
      button.classList.add('upvote-pop', 'upvoted');
    }
    try {
      await (takingBack ? api.unvote(act.actId) : api.upvote(act.actId));
    } catch (err) {
      // 409: another tab or device already did what this click asked; the page was stale and
      // the optimistic count is now the true one.
      if (err.status === 409) return;
      count += takingBack ? 1 : -1;
      liked = takingBack;
      show();
      toast(`${takingBack ? 'Your upvote is still there' : 'Your upvote did not count'}: ${err.message}`, 'error');
    }
  });
  return button;
}

function removeButton(act, card, onRemoved) {
  return h(
    'button.button.button-ghost.remove',
    {
      type: 'button',
      'aria-label': `Remove your act${act.caption ? ` “${act.caption}”` : ''}`,
      onclick: async (e) => {
        const button = e.currentTarget;
        const ok = await confirmDialog({
          title: 'Remove this act?',
          text: 'The photo, caption and upvotes will be gone for good.',
          confirmLabel: 'Remove',
        });
        if (!ok) return;
        button.disabled = true;
        try {
          await api.removeAct(act.actId);
          card.classList.add('act-card-leaving');
          setTimeout(() => card.remove(), 180);
          toast('Your act was removed.');
          onRemoved?.(act);
        } catch (err) {
          button.disabled = false;
          toast(`Could not remove the act: ${err.message}`, 'error');
        }
      },
    },
    icon('trash'),
    h('span', {}, 'Remove'),
  );
}
