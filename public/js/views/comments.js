// An act's comments in the photo view: read by anyone, oldest first; a logged-in user adds one;
// the comment's author or the act's author removes it (in open mode, anyone logged in: the
// server decides, and says why when it refuses).
import * as api from '../api.js';
import { h, icon, showError } from '../dom.js';
import { session } from '../session.js';
import { avatar, profileRoute } from './act-card.js';

/** What the server takes (app/http/names.ts COMMENT_MAX). */
const COMMENT_MAX = 1000;

function postedAt(iso) {
  const at = new Date(iso);
  return h(
    'time',
    { datetime: iso, title: at.toLocaleString() },
    at.toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' }),
  );
}

/** @param {import('../api.js').Card} card */
export function commentsPanel(card) {
  const list = h('ol.comments-list', { 'aria-live': 'polite' });
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const heading = h('h2.comments-title', { id: `comments-${card.actId}` }, 'Comments');
  const panel = h('section.comments', { 'aria-labelledby': heading.id }, heading, list, error);

  const mayRemove = (comment) =>
    session.user !== null &&
    (!session.authorsOnly || session.user === comment.username || session.user === card.username);

  const load = async () => {
    let all;
    try {
      all = await api.comments(card.actId);
    } catch (err) {
      showError(error, err.message);
      return;
    }
    heading.textContent = all.length === 0 ? 'Comments' : `Comments (${all.length})`;
    list.replaceChildren(
      ...(all.length === 0
        ? [h('li.comments-empty', {}, 'No comments yet.')]
        : all.map((c) =>
            h(
              'li.comment',
              { dataset: { commentId: String(c.id) } },
              avatar(c.username),
              h(
                'div.comment-body',
                {},
                h(
                  'p.comment-head',
                  {},
                  h('a.act-author', { href: profileRoute(c.username) }, c.username),
                  ' · ',
                  postedAt(c.time),
                ),
                h('p.comment-text', {}, c.text),
              ),
              mayRemove(c)
                ? h(
                    'button.button.button-ghost.comment-remove',
                    {
                      type: 'button',
                      'aria-label': `Remove the comment by ${c.username}`,
                      onclick: async () => {
                        try {
                          await api.removeComment(card.actId, c.id);
                          showError(error, '');
                        } catch (err) {
                          showError(error, err.message);
                        }
                        await load();
                      },
                    },
                    icon('trash'),
                  )
                : null,
            ),
          )),
    );
  };

  if (session.user) {
    const text = h('textarea#comment-text', {
      name: 'text',
      rows: '2',
      maxlength: String(COMMENT_MAX),
      placeholder: 'Say something kind',
    });
    const post = h('button.button.button-primary', { type: 'submit' }, 'Post');
    const form = h(
      'form.comment-form',
      {},
      h('label.visually-hidden', { for: 'comment-text' }, 'Add a comment'),
      text,
      post,
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return showError(error, 'Write something first.');
      post.disabled = true;
      try {
        await api.addComment(card.actId, text.value);
        text.value = '';
        showError(error, '');
        await load();
      } catch (err) {
        showError(error, err.message);
      } finally {
        post.disabled = false;
      }
    });
    panel.append(form);
  } else {
    panel.append(
      h(
        'p.comments-login',
        {},
        h('a', { href: `#/login?next=${encodeURIComponent(`/a/${card.actId}`)}` }, 'Log in'),
        ' to comment.',
      ),
    );
  }
  void load();
  return panel;
}
