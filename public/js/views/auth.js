// Log in (row 4) and sign up (row 1, then row 4). The password leaves the page only as SHA1 hex.
import * as api from '../api.js';
import { h, showError, toast } from '../dom.js';
import { session } from '../session.js';

/** Shorter passwords are guessed in minutes once a hash leaks (NIST SP 800-63B asks for 8 or more). */
const MIN_PASSWORD = 8;

/** Only in-site routes are followed after logging in. */
function nextRoute(query) {
  const next = query.get('next') ?? '';
  return next.startsWith('/') && !next.startsWith('//') ? `#${next}` : '#/';
}

export async function render(section, { mode }, query) {
  const signingUp = mode === 'signup';
  document.title = `${signingUp ? 'Sign up' : 'Log in'} · SelfLessActs`;
  const keep = query.get('next') ? `?next=${encodeURIComponent(query.get('next'))}` : '';

  const username = h('input#username', {
    name: 'username',
    required: true,
    autocomplete: 'username',
    autocapitalize: 'none',
    spellcheck: 'false',
  });
  const password = h('input#password', {
    name: 'password',
    type: 'password',
    required: true,
    autocomplete: signingUp ? 'new-password' : 'current-password',
    ...(signingUp ? { minLength: MIN_PASSWORD, 'aria-describedby': 'password-hint' } : {}),
  });
  // The server sees only the password's SHA-1, so its length is checked here, before it leaves.
  const hint = signingUp
    ? h(
        'p.field-hint#password-hint',
        {},
        `At least ${MIN_PASSWORD} characters. A few words you will remember make a strong one.`,
      )
    : null;
  const error = h('p.form-error', { role: 'alert', hidden: true });
  const submit = h(
    'button.button.button-primary.button-wide',
    { type: 'submit' },
    signingUp ? 'Create account' : 'Log in',
  );

  const form = h(
    'form.auth-form',
    { novalidate: true },
    h('div.field', {}, h('label', { for: 'username' }, 'Username'), username),
    h('div.field', {}, h('label', { for: 'password' }, 'Password'), password, hint),
    error,
    submit,
  );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const name = username.value;
    if (!name.trim()) return fail('Enter a username.', username);
    if (!password.value) return fail('Enter a password.', password);
    if (signingUp && [...password.value].length < MIN_PASSWORD) {
      return fail(`Choose a password of at least ${MIN_PASSWORD} characters.`, password);
    }
    showError(error, '');
    submit.disabled = true;
    try {
      if (signingUp) await session.signUp(name, password.value);
      else await session.logIn(name, password.value);
      toast(signingUp ? `Welcome, ${name.trim()}!` : `Welcome back, ${name.trim()}!`, 'success');
      location.hash = nextRoute(query);
    } catch (err) {
      submit.disabled = false;
      fail(await explain(err, name, signingUp), signingUp ? username : password);
    }
  });

  function fail(message, focus) {
    showError(error, message);
    focus.focus();
  }

  section.append(
    h(
      'div.auth-card',
      {},
      h('h1', {}, signingUp ? 'Create your account' : 'Welcome back'),
      h(
        'p.lede',
        {},
        signingUp ? 'Join to share kind acts and upvote the ones you love.' : 'Log in to share acts and upvote.',
      ),
      form,
      h(
        'p.auth-switch',
        {},
        signingUp ? 'Already have an account? ' : 'New here? ',
        h('a', { href: `#/${signingUp ? 'login' : 'signup'}${keep}` }, signingUp ? 'Log in' : 'Create an account'),
      ),
    ),
  );
  if (!session.user) username.focus();
  else error.replaceWith(h('p.hint', {}, `You are logged in as ${session.user}.`), error);
}

async function explain(err, name, signingUp) {
  if (err.status === 401) return 'Wrong username or password. Check both and try again.';
  if (signingUp && err.status === 400) {
    // One 400 covers several reasons; asking whether the name exists tells them apart.
    const taken = await api.userExists(name).catch(() => false);
    if (taken) return `The username “${name}” is taken. Try another one.`;
  }
  return err.message;
}
