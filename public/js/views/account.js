// The account page: the bio other people see on the profile, a password change (with the
// current password; other browsers are logged out), and deleting the account (row 2: the
// server asks for a log-in within the last few minutes, and the page says so when it does).
import * as api from '../api.js';
import { confirmDialog, h, showError, toast } from '../dom.js';
import { session } from '../session.js';
import { avatar } from './act-card.js';
import { fitForUpload, photoFormat } from './upload.js';

/** As the sign-up asks (views/auth.js): NIST SP 800-63B's 8 or more. */
const MIN_PASSWORD = 8;
/** What the server takes (app/http/names.ts BIO_MAX). */
const BIO_MAX = 160;

export async function render(section) {
  document.title = 'Your account · SelfLessActs';
  const user = session.user;
  if (!user) {
    location.replace(`#/login?next=${encodeURIComponent('/account')}`);
    return;
  }
  section.classList.add('account-page');
  section.append(
    h('h1', {}, 'Your account'),
    h('p.lede', {}, 'Logged in as ', h('strong', {}, user), ' · ', h('a', { href: '#/me' }, 'your acts')),
  );
  const current = await api.profile(user).catch(() => ({ bio: '', avatar: null }));
  if (!section.isConnected) return;
  section.append(avatarSection(user, current.avatar), bioSection(user, current), passwordSection(), deleteSection());
}

/** The photo beside the user's name on their profile: sent smaller when large, made square by the server. */
function avatarSection(user, version) {
  const face = h('span.avatar-face', {}, avatar(user, version));
  const show = (v) => {
    face.replaceChildren(avatar(user, v));
    face.firstElementChild?.classList.add('avatar-large');
    remove.hidden = !v;
  };
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const input = h('input.visually-hidden#avatar-file', {
    type: 'file',
    accept: 'image/png,image/jpeg,image/gif,image/webp',
  });
  const choose = h('label.button', { for: 'avatar-file' }, 'Choose a photo');
  const remove = h('button.button.button-ghost', { type: 'button' }, 'Remove the photo');
  input.addEventListener('change', async () => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const format = photoFormat(new Uint8Array(await file.slice(0, 256).arrayBuffer()));
    if (!format?.ok) return showError(error, `“${file.name}” is not a JPEG, PNG, GIF or WebP photo.`);
    try {
      const v = await api.setAvatar(user, await fitForUpload(file, format.type));
      showError(error, '');
      show(v);
      toast('Your photo is saved.', 'success');
    } catch (err) {
      showError(error, err.message);
    }
  });
  remove.addEventListener('click', async () => {
    try {
      await api.removeAvatar(user);
      showError(error, '');
      show(null);
    } catch (err) {
      showError(error, err.message);
    }
  });
  show(version);
  return h(
    'section',
    { 'aria-labelledby': 'avatar-title' },
    h('h2#avatar-title', {}, 'Photo'),
    h('div.avatar-row', {}, face, input, choose, remove),
    error,
  );
}

function bioSection(user, current) {
  const text = h('textarea#bio', {
    name: 'bio',
    rows: '3',
    maxlength: String(BIO_MAX),
    'aria-describedby': 'bio-hint',
  });
  text.value = current.bio;
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const save = h('button.button.button-primary', { type: 'submit' }, 'Save');
  const form = h(
    'form',
    {},
    h(
      'div.field',
      {},
      h('label', { for: 'bio' }, 'Bio'),
      text,
      h('p.hint#bio-hint', {}, `Shown on your profile. At most ${BIO_MAX} characters.`),
    ),
    error,
    save,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    try {
      await api.setBio(user, text.value);
      showError(error, '');
      toast('Your bio is saved.', 'success');
    } catch (err) {
      showError(error, err.message);
    } finally {
      save.disabled = false;
    }
  });
  return h('section', { 'aria-labelledby': 'bio-title' }, h('h2#bio-title', {}, 'Profile'), form);
}

function passwordSection() {
  const field = (id, autocomplete, extra = {}) =>
    h('input', { id, name: id, type: 'password', required: true, autocomplete, ...extra });
  const current = field('current-password', 'current-password');
  const next = field('new-password', 'new-password', {
    minLength: MIN_PASSWORD,
    'aria-describedby': 'new-password-hint',
  });
  const again = field('repeat-password', 'new-password');
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const change = h('button.button.button-primary', { type: 'submit' }, 'Change password');
  const form = h(
    'form',
    { novalidate: true },
    h('div.field', {}, h('label', { for: 'current-password' }, 'Current password'), current),
    h(
      'div.field',
      {},
      h('label', { for: 'new-password' }, 'New password'),
      next,
      h(
        'p.field-hint#new-password-hint',
        {},
        `At least ${MIN_PASSWORD} characters. A few words you will remember make a strong one.`,
      ),
    ),
    h('div.field', {}, h('label', { for: 'repeat-password' }, 'New password again'), again),
    error,
    change,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!current.value) return showError(error, 'Enter your current password.');
    if (next.value.length < MIN_PASSWORD)
      return showError(error, `The new password needs at least ${MIN_PASSWORD} characters.`);
    if (next.value !== again.value) return showError(error, 'The two new passwords differ.');
    change.disabled = true;
    try {
      await session.changePassword(current.value, next.value);
      form.reset();
      showError(error, '');
      toast('Your password is changed. Other browsers are logged out.', 'success');
    } catch (err) {
      showError(error, err.message);
    } finally {
      change.disabled = false;
    }
  });
  return h('section', { 'aria-labelledby': 'password-title' }, h('h2#password-title', {}, 'Password'), form);
}

function deleteSection() {
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const remove = h('button.button.button-danger', { type: 'button' }, 'Delete my account');
  remove.addEventListener('click', async () => {
    const ok = await confirmDialog({
      title: 'Delete your account?',
      text: 'Your account goes for good; you are logged out everywhere. Your acts stay, under your name, until you remove them.',
      confirmLabel: 'Delete my account',
    });
    if (!ok) return;
    try {
      await session.deleteAccount();
      toast('Your account is deleted.');
      location.hash = '#/';
    } catch (err) {
      if (err instanceof api.ApiError && err.status === 401 && session.user) {
        // A log-in too long ago: the server wants a fresh one before an account goes.
        showError(error, '');
        error.hidden = false;
        error.replaceChildren(
          'For your safety, log in again first: ',
          h('a', { href: `#/login?next=${encodeURIComponent('/account')}` }, 'log in'),
          ', then delete the account within a few minutes.',
        );
        return;
      }
      showError(error, err.message);
    }
  });
  return h(
    'section.danger-zone',
    { 'aria-labelledby': 'delete-title' },
    h('h2#delete-title', {}, 'Delete the account'),
    h('p', {}, 'Your name can then be taken by someone else. Remove your acts first if they should go too.'),
    error,
    remove,
  );
}
