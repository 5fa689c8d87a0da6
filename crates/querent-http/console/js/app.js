// The console's shell: sign-in, navigation by the URL hash, the screens.
import * as api from './api.js';
import { h, replace } from './dom.js';
import { setupScreen, loginScreen } from './auth.js';
import { askScreen } from './ask.js';
import { reviewScreen } from './review.js';
import { historyScreen } from './history.js';
import { workspaceScreen } from './workspace.js';
import { adminScreen } from './admin.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');
const flashEl = document.getElementById('flash');

/** Who is signed in, and what they may see. */
export const session = { me: null, admin: false, editor: false, teamAdmin: false };

/** Shows an error (or a notice) at the top of the page until dismissed or replaced. */
export function flash(err, kind = 'error') {
  if (!err) {
    flashEl.hidden = true;
    flashEl.replaceChildren();
    return;
  }
  const text = err instanceof api.ApiError ? err.detail : String(err.message || err);
  const code = err instanceof api.ApiError ? err.code : null;
  flashEl.className = `flash ${kind}`;
  replace(
    flashEl,
    h('span', { class: 'flash-text' }, text),
    code ? h('code', { class: 'code' }, code) : null,
    h('button', { type: 'button', class: 'link', 'aria-label': 'Dismiss', onclick: () => flash(null) }, '×'),
  );
  flashEl.hidden = false;
}

const SCREENS = [
  { path: 'ask', label: 'Ask', show: () => true, render: askScreen },
  { path: 'review', label: 'Review', show: () => session.editor, render: reviewScreen },
  { path: 'history', label: 'History', show: () => true, render: historyScreen },
  { path: 'workspace', label: 'Workspace', show: () => true, render: workspaceScreen },
  { path: 'admin', label: 'Admin', show: () => session.admin || session.teamAdmin, render: adminScreen },
];

function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || 'ask').split('/');
  return { name: parts[0], rest: parts.slice(1).map(decodeURIComponent) };
}

/** The number of queries waiting for the caller's approval, beside Review. */
async function pendingBadge() {
  const link = nav.querySelector('a[data-path="review"]');
  if (!link) return;
  try {
    const page = await api.get('/chat/pending?limit=100');
    const n = page.items.length;
    const text = n ? `${n}${page.next_cursor ? '+' : ''}` : '';
    let badge = link.querySelector('.count');
    if (!badge) {
      badge = h('span', { class: 'count' });
      link.appendChild(badge);
    }
    badge.textContent = text;
    badge.hidden = !n;
    link.setAttribute('aria-label', n ? `Review, ${text} waiting` : 'Review');
  } catch {
    // The badge is a hint; the Review screen itself reports errors.
  }
}

async function render() {
  if (!session.me) return;
  flash(null);
  pendingBadge();
  const { name, rest } = route();
  const screen = SCREENS.find((s) => s.path === name && s.show()) || SCREENS[0];
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.path === screen.path) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const view = h('div', { class: 'screen', 'data-screen': screen.path });
  replace(main, view);
  try {
    await screen.render(view, rest);
  } catch (e) {
    flash(e);
  }
}

function drawShell() {
  replace(
    nav,
    SCREENS.filter((s) => s.show()).map((s) => h('a', { href: `#/${s.path}`, 'data-path': s.path }, s.label)),
  );
  nav.hidden = false;
  const name = session.me.user ? session.me.user.username : session.me.client_id;
  replace(
    who,
    h('span', { class: 'muted', id: 'whoami' }, name),
    h('button', { type: 'button', class: 'secondary', id: 'logout', onclick: () => api.logout() }, 'Sign out'),
  );
}

/** After setup, login or a quiet refresh on load: read who we are and open the console. */
export async function enter() {
  const me = await api.get('/auth/me');
  const roles = me.teams.map((t) => t.role);
  session.me = me;
  session.admin = !!(me.user && me.user.role === 'admin');
  session.editor = session.admin || roles.some((r) => ['owner', 'admin', 'editor'].includes(r));
  session.teamAdmin = session.admin || roles.some((r) => ['owner', 'admin'].includes(r));
  drawShell();
  await render();
}

function signedOut(err) {
  session.me = null;
  nav.hidden = true;
  nav.replaceChildren();
  who.replaceChildren();
  loginScreen(main, enter);
  if (err) flash(err);
}

async function boot() {
  api.onLogout(signedOut);
  window.addEventListener('hashchange', render);
  try {
    const status = await api.get('/auth/setup-status');
    if (status.needs_setup) {
      setupScreen(main, enter);
      return;
    }
    if (api.hasRefreshToken()) {
      try {
        await api.refresh();
        await enter();
        return;
      } catch {
        // The stored login is gone (expired, revoked): sign in again.
      }
    }
    loginScreen(main, enter);
  } catch (e) {
    replace(main, h('p', { class: 'muted' }, 'The console could not start.'));
    flash(e);
  }
}

boot();
