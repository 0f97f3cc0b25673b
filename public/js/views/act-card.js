// One act as a card: its thumbnail (a link to the photo view), caption, author (a link to their
// profile), time, upvotes (row 13) and, for its author, removal (row 14). Used by the home page,
// the feeds (act-feed.js) and the photo view (its upvote button).
import * as api from '../api.js';
import { confirmDialog, h, icon, toast } from '../dom.js';
import { hueFor, initial, parseStamp, plural } from '../format.js';
import { actPicture } from '../photo.js';
import { session } from '../session.js';

/** How wide a card's photo is shown: half the screen on phones (two columns), else about a third. */
export const CARD_SIZES = '(max-width: 599px) 50vw, (max-width: 939px) 50vw, 360px';

/** The user's initial in their colour; with `version`, their avatar photo instead. */
export function avatar(name, version = null) {
  const style = { '--hue': String(hueFor(name)) };
  if (version)
    return h(
      'span.avatar.avatar-photo',
      { 'aria-hidden': 'true', style },
      h('img', { src: api.avatarUrl(name, version), alt: '', width: '256', height: '256', decoding: 'async' }),
    );
  return h('span.avatar', { 'aria-hidden': 'true', style }, initial(name));
}

export const actRoute = (act) => `#/a/${act.actId}`;
export const profileRoute = (username) => `#/u/${encodeURIComponent(username)}`;

/** A time as "2 h ago", the exact local time on hover. */
export function when(stamp) {
  const parsed = parseStamp(stamp);
  return parsed ? h('time', { datetime: parsed.iso, title: parsed.title }, parsed.label) : stamp;
}

/**
 * @param {import('../api.js').Card} act
 * @param {{showCategory?: boolean, first?: boolean, onRemoved?: (act: object) => void}} options
 *   first: the page's first card: its photo is not lazy-loaded (Lighthouse's largest paint).
 */
export function actCard(act, { showCategory = false, first = false, onRemoved } = {}) {
  // What the photo shows, as its uploader described it; else what the act says.
  const description = act.image?.alt || act.caption || `A kind act shared by ${act.username}`;
  const actions = h('div.act-actions', {}, upvoteButton(act));
  const card = h(
    'article.act-card',
    { dataset: { actId: act.actId }, 'aria-label': `Act by ${act.username}` },
    h(
      'a.act-photo.photo-frame',
      { href: actRoute(act), 'aria-label': `View the photo: ${description}` },
      actPicture(act, { sizes: CARD_SIZES, alt: description, first }),
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
          h('a.act-author', { href: profileRoute(act.username) }, act.username),
          h(
            'span.act-when',
            {},
            when(act.timestamp),
            showCategory
              ? [' · in ', h('a', { href: `#/c/${encodeURIComponent(act.categoryName)}` }, act.categoryName)]
              : null,
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
 * With API_ACCESS=owner an upvote is one per user: a listing tells a logged-in user which acts
 * they upvoted (act.upvotedByMe), the button shows it, and a second click takes it back; a
 * visitor is asked to log in first. In open mode the server counts every click from anyone, so
 * the button is a plain counter and claims nothing about who upvoted.
 */
export function upvoteButton(act) {
  let count = Number(act.upvotes);
  const perUser = session.upvotesPerUser;
  let liked = act.upvotedByMe === true;
  const number = h('span.upvote-count', {}, String(count));
  const button = h('button.upvote', { type: 'button' }, icon('heart'), number);
  const show = () => {
    number.textContent = count.toLocaleString('en');
    button.classList.toggle('upvoted', perUser && liked);
    if (perUser && session.user) button.setAttribute('aria-pressed', String(liked));
    const action = perUser && liked ? 'Take back your upvote of act' : 'Upvote act';
    // The visible count leads the name (WCAG 2.5.3: a speech user says what they see).
    button.setAttribute('aria-label', `${plural(count, 'upvote')}: ${action.toLowerCase()} by ${act.username}`);
  };
  show();
  button.addEventListener('click', async () => {
    if (perUser && !session.user) {
      toast('Log in to upvote: one upvote per person.', 'info', {
        label: 'Log in',
        href: `#/login?next=${encodeURIComponent(location.hash.slice(1) || '/')}`,
      });
      return;
    }
    const takingBack = perUser && liked;
    // Optimistic: the count moves at once; a refusal puts it back and says why.
    count += takingBack ? -1 : 1;
    liked = !takingBack;
    act.upvotes = count;
    act.upvotedByMe = perUser ? liked : undefined;
    show();
    if (!takingBack) {
      button.classList.remove('upvote-pop');
      void button.offsetWidth; // restart the animation on repeated clicks
      button.classList.add('upvote-pop');
    }
    try {
      await (takingBack ? api.unvote(act.actId) : api.upvote(act.actId));
    } catch (err) {
      // 409: another tab or device already did what this click asked; the page was stale and
      // the optimistic count is now the true one.
      if (err.status === 409) return;
      count += takingBack ? 1 : -1;
      liked = takingBack;
      act.upvotes = count;
      act.upvotedByMe = perUser ? liked : undefined;
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
        if (await removeAct(act)) {
          card.classList.add('act-card-leaving');
          setTimeout(() => card.remove(), 180);
          onRemoved?.(act);
        } else {
          button.disabled = false;
        }
      },
    },
    icon('trash'),
    h('span.button-label', {}, 'Remove'),
  );
}

/** Asks, then removes the act (row 14); true when it is gone. */
export async function removeAct(act) {
  const ok = await confirmDialog({
    title: 'Remove this act?',
    text: 'The photo, caption and upvotes will be gone for good.',
    confirmLabel: 'Remove',
  });
  if (!ok) return false;
  try {
    await api.removeAct(act.actId);
    toast('Your act was removed.');
    return true;
  } catch (err) {
    toast(`Could not remove the act: ${err.message}`, 'error');
    return false;
  }
}
