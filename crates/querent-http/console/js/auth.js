// First-boot setup and sign-in.
import * as api from './api.js';
import { h, field, replace } from './dom.js';

function errorBox() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

function showError(box, err) {
  const text = err instanceof api.ApiError ? err.detail : String(err.message || err);
  replace(box, text);
  if (err instanceof api.ApiError && err.code) box.appendChild(h('code', { class: 'code' }, err.code));
  box.hidden = false;
}

/** A form whose submit runs `action(values)`; errors appear under the form. */
function form(title, intro, fields, submitLabel, action) {
  const box = errorBox();
  const button = h('button', { type: 'submit' }, submitLabel);
  const f = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'form-title', novalidate: true },
    h('h1', { id: 'form-title' }, title),
    intro ? h('p', { class: 'muted' }, intro) : null,
    fields,
    box,
    h('div', { class: 'actions' }, button),
  );
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    box.hidden = true;
    button.disabled = true;
    try {
      await action();
    } catch (e) {
      showError(box, e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

export function setupScreen(main, enter) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true, value: 'admin' });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'email' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const again = h('input', { name: 'password2', type: 'password', autocomplete: 'new-password', required: true });
  const f = form(
    'Welcome to Querent',
    'No one has signed in yet. Create the first administrator; a team is created for them, and the demo database is ready to ask about.',
    [
      field('Username', user, '3–64 characters: letters, digits, . _ - @'),
      field('E-mail (optional)', email),
      field('Password', pass, 'At least 8 characters.'),
      field('Repeat the password', again),
    ],
    'Create administrator',
    async () => {
      if (pass.value !== again.value) throw new Error('The two passwords differ.');
      const body = { username: user.value.trim(), password: pass.value };
      if (email.value.trim()) body.email = email.value.trim();
      const r = await api.post('/auth/setup', body);
      api.setTokens(r);
      await enter();
    },
  );
  f.id = 'setup-form';
  replace(main, f);
  user.focus();
}

export function loginScreen(main, enter) {
  const user = h('input', { name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const f = form('Sign in', null, [field('Username', user), field('Password', pass)], 'Sign in', async () => {
    const r = await api.post('/auth/login', { username: user.value.trim(), password: pass.value });
    api.setTokens(r);
    pass.value = '';
    await enter();
  });
  f.id = 'login-form';
  replace(main, f);
  user.focus();
}
