// The only way the console talks to the server: the public /api/v1.
// The access token lives in memory only; the refresh token in sessionStorage (this tab),
// so a reload keeps the login and closing the tab ends it.

const BASE = '/api/v1';
const REFRESH_KEY = 'querent.refresh';

const tokens = { access: null, timer: null, refreshing: null };
const listeners = { logout: [] };

/** An error answer of the API: its HTTP status, stable code and message for people. */
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.code = code || 'error';
    this.detail = detail || `HTTP ${status}`;
  }
}

/** Called when the login ends (logout, refresh refused). */
export function onLogout(fn) {
  listeners.logout.push(fn);
}

export function hasRefreshToken() {
  return !!sessionStorage.getItem(REFRESH_KEY);
}

export function isLoggedIn() {
  return !!tokens.access;
}

/** Keeps a token pair from login, setup or refresh, and plans the quiet refresh. */
export function setTokens(pair) {
  tokens.access = pair.access_token;
  sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
  clearTimeout(tokens.timer);
  const secs = Number(pair.expires_in) || 900;
  // Refresh at 80% of the lifetime, so requests never carry an expired token.
  tokens.timer = setTimeout(() => refresh().catch(() => {}), Math.max(5, secs * 0.8) * 1000);
}

function clearTokens() {
  tokens.access = null;
  clearTimeout(tokens.timer);
  sessionStorage.removeItem(REFRESH_KEY);
}

/** Exchanges the refresh token for a new pair (one exchange at a time). */
export function refresh() {
  if (tokens.refreshing) return tokens.refreshing;
  const rt = sessionStorage.getItem(REFRESH_KEY);
  if (!rt) return Promise.reject(new ApiError(401, 'unauthorized', 'Please sign in.'));
  tokens.refreshing = (async () => {
    try {
      const r = await fetch(`${BASE}/auth/refresh`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refresh_token: rt }),
      });
      if (!r.ok) {
        const err = await errorOf(r);
        clearTokens();
        listeners.logout.forEach((fn) => fn(err));
        throw err;
      }
      setTokens(await r.json());
    } finally {
      tokens.refreshing = null;
    }
  })();
  return tokens.refreshing;
}

export async function logout() {
  const rt = sessionStorage.getItem(REFRESH_KEY);
  if (rt) {
    try {
      await call('POST', '/auth/logout', { refresh_token: rt });
    } catch {
      // Ending the login locally is what matters; the server forgets it at expiry.
    }
  }
  clearTokens();
  listeners.logout.forEach((fn) => fn(null));
}

async function errorOf(r) {
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  const detail = body && typeof body.detail === 'string' ? body.detail : `${r.status} ${r.statusText}`;
  return new ApiError(r.status, body && body.code, detail);
}

function request(method, path, body, accept, signal) {
  const headers = { Accept: accept || 'application/json' };
  if (tokens.access) headers.Authorization = `Bearer ${tokens.access}`;
  const init = { method, headers, signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(`${BASE}${path}`, init);
}

/** One request, retried once after a quiet refresh when the access token was refused. */
async function send(method, path, body, accept, signal) {
  let r;
  try {
    r = await request(method, path, body, accept, signal);
  } catch (e) {
    if (e.name === 'AbortError') throw new ApiError(0, 'stopped', 'Stopped.');
    throw new ApiError(0, 'network', `The server cannot be reached (${e.message}).`);
  }
  if (r.status === 401 && hasRefreshToken() && !path.startsWith('/auth/')) {
    await refresh();
    r = await request(method, path, body, accept, signal);
  }
  if (!r.ok) throw await errorOf(r);
  return r;
}

/** A JSON call: the parsed body, or null for 204. */
export async function call(method, path, body) {
  const r = await send(method, path, body);
  if (r.status === 204) return null;
  return r.json();
}

export const get = (path) => call('GET', path);
export const post = (path, body) => call('POST', path, body === undefined ? {} : body);
export const put = (path, body) => call('PUT', path, body);
export const patch = (path, body) => call('PATCH', path, body);
export const del = (path) => call('DELETE', path);

/** Every item of a paginated list (following next_cursor, at most `max` items). */
export async function all(path, max = 1000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** Downloads a file answer (an export) and hands it to the browser as a download. */
export async function download(path, fallbackName) {
  const r = await send('GET', path, undefined, '*/*');
  const blob = await r.blob();
  const cd = r.headers.get('content-disposition') || '';
  const m = /filename="?([^";]+)"?/.exec(cd);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = m ? m[1] : fallbackName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/**
 * A streamed chat call (POST /chat, /chat/execute/…, /chat/edit/…): server-sent events
 * read from the response body. `onEvent(name, data)` sees every event; resolves with the
 * `done` event's ChatResponse. Aborting `signal` closes the stream, and the server then
 * cancels the question and its query.
 */
export async function stream(path, body, onEvent, signal) {
  const r = await send('POST', path, body === undefined ? {} : body, 'text/event-stream', signal);
  const type = r.headers.get('content-type') || '';
  if (!type.includes('text/event-stream')) {
    const data = await r.json();
    onEvent('done', data);
    return data;
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = null;
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch (e) {
      if (e.name === 'AbortError') throw new ApiError(0, 'stopped', 'Stopped: the server cancels the query.');
      throw new ApiError(0, 'network', `The answer stream broke off (${e.message}).`);
    }
    const { value, done: end } = chunk;
    if (end) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
      let name = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith(':')) continue;
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (!data.length) continue;
      let parsed;
      try {
        parsed = JSON.parse(data.join('\n'));
      } catch {
        parsed = data.join('\n');
      }
      onEvent(name, parsed);
      if (name === 'done') done = parsed;
    }
  }
  if (!done) throw new ApiError(0, 'interrupted', 'The answer stream ended early; ask again.');
  return done;
}
