// Admin: connections, semantic model, providers, users and teams, API clients, settings,
// audit log. Shown to server admins and team admins; the server decides every action.
import * as api from './api.js';
import { h, field, replace, when } from './dom.js';
import { session } from './app.js';

const TABS = [
  ['connections', 'Connections', () => session.teamAdmin],
  ['semantic', 'Semantic model', () => session.teamAdmin],
  ['providers', 'Providers', () => session.teamAdmin],
  ['users', 'Users and teams', () => session.teamAdmin],
  ['clients', 'API clients', () => session.teamAdmin],
  ['settings', 'Settings', () => session.admin],
  ['audit', 'Audit log', () => session.admin],
];

function errorText(e) {
  return e instanceof api.ApiError ? `${e.detail} (${e.code})` : String(e.message || e);
}

/** A status line that shows the outcome of an action. */
function outcome() {
  return h('p', { class: 'small outcome', role: 'status', 'aria-live': 'polite' });
}

async function attempt(out, fn, okText) {
  out.className = 'small outcome';
  try {
    const r = await fn();
    if (okText) out.textContent = typeof okText === 'function' ? okText(r) : okText;
    return r;
  } catch (e) {
    out.className = 'small outcome form-error';
    out.textContent = errorText(e);
    return null;
  }
}

export async function adminScreen(view, rest) {
  const visible = TABS.filter((t) => t[2]());
  const tab = visible.find((t) => t[0] === rest[0]) || visible[0];
  const body = h('div', { id: `admin-${tab[0]}` });
  replace(
    view,
    h('h1', {}, 'Admin'),
    h('nav', { class: 'tabs', 'aria-label': 'Admin' }, visible.map(([k, label]) => h('a', { href: `#/admin/${k}`, 'aria-current': k === tab[0] ? 'page' : null }, label))),
    body,
  );
  const render = { connections, semantic, providers, users, clients, settings, audit }[tab[0]];
  await render(body);
}

function table(headers, rows) {
  return h('div', { class: 'scroll' }, h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)));
}

async function connections(body) {
  const items = await api.all('/connections');
  const rows = items.map((c) => {
    const out = outcome();
    const mode = h('select', { 'aria-label': `Execution mode of ${c.name}`, class: 'mode', 'data-connection': c.name },
      ['auto_execute', 'review_first', 'generate_only'].map((m) => h('option', { value: m, selected: m === c.execution_mode }, m.replace('_', ' '))));
    mode.addEventListener('change', () => attempt(out, () => api.put(`/connections/${c.id}/execution-mode`, { mode: mode.value }), `Mode set to ${mode.value.replace('_', ' ')}.`));
    const test = h('button', { type: 'button', class: 'secondary small', onclick: () => attempt(out, () => api.post(`/connections/${c.id}/test`), (r) => (r.ok ? `OK: ${r.server_version || c.dialect}, ${r.latency_ms} ms` : `Failed: ${r.error ? r.error.detail || r.error.message : ''}`)) }, 'Test');
    const privacy = h('button', { type: 'button', class: 'secondary small', onclick: () => privacyForm(c, out) }, 'Privacy');
    const limits = h('button', { type: 'button', class: 'secondary small', onclick: () => limitsForm(c, out) }, 'Limits');
    return h('tr', {},
      h('td', {}, c.name, c.description ? h('div', { class: 'muted small' }, c.description) : null),
      h('td', {}, c.dialect),
      h('td', {}, c.path || [c.host, c.port, c.database].filter(Boolean).join(' · ')),
      h('td', {}, mode),
      h('td', {}, h('div', { class: 'row-actions' }, test, privacy, limits), out));
  });
  replace(body, table(['Name', 'Dialect', 'Where', 'Execution mode', ''], rows), addConnection());
}

function limitsForm(c, out) {
  const timeout = h('input', { type: 'number', min: 1, value: c.config.statement_timeout_ms });
  const rows = h('input', { type: 'number', min: 1, value: c.config.max_rows });
  const f = h('form', { class: 'card inline-form' }, field('Statement timeout (ms)', timeout), field('Row cap', rows), h('button', { type: 'submit' }, 'Save limits'));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { statement_timeout_ms: Number(timeout.value), max_rows: Number(rows.value) };
    if (await attempt(out, () => api.put(`/connections/${c.id}/config`, body), 'Limits saved.')) { c.config = body; f.remove(); }
  });
  out.before(f);
}

function privacyForm(c, out) {
  const p = c.privacy || {};
  const lists = [
    ['excluded_tables', 'Excluded tables', 'schema.table or table, one a line'],
    ['excluded_columns', 'Excluded columns', 'table.column, one a line'],
    ['masked_column_patterns', 'Masked column patterns', 'e.g. *email*, one a line'],
  ];
  const areas = lists.map(([k]) => { const a = h('textarea', { rows: 3 }); a.value = (p[k] || []).join('\n'); return a; });
  const f = h('form', { class: 'card inline-form' }, lists.map(([, label, hint], i) => field(label, areas[i], hint)), h('button', { type: 'submit' }, 'Save policy'));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const policy = {};
    lists.forEach(([k], i) => { policy[k] = areas[i].value.split('\n').map((s) => s.trim()).filter(Boolean); });
    if (await attempt(out, () => api.put(`/connections/${c.id}/privacy`, policy), 'Policy saved.')) f.remove();
  });
  out.before(f);
}

function addConnection() {
  const dialect = h('select', {}, [['sqlite', 'SQLite'], ['postgres', 'PostgreSQL'], ['mysql', 'MySQL / MariaDB']].map(([v, l]) => h('option', { value: v }, l)));
  const name = h('input', { required: true });
  const path = h('input', { placeholder: 'a file in the server\'s SQLite folder' });
  const host = h('input', { placeholder: '127.0.0.1' });
  const port = h('input', { type: 'number', min: 1, max: 65535 });
  const database = h('input', {});
  const user = h('input', { autocomplete: 'off' });
  const pass = h('input', { type: 'password', autocomplete: 'new-password' });
  const mode = h('select', {}, ['auto_execute', 'review_first', 'generate_only'].map((m) => h('option', { value: m }, m.replace('_', ' '))));
  const out = outcome();
  const server = h('div', { class: 'grid-fields' }, field('Host', host), field('Port', port), field('Database', database), field('User', user), field('Password', pass));
  const file = h('div', {}, field('SQLite file', path));
  const sync = () => { const lite = dialect.value === 'sqlite'; server.hidden = lite; file.hidden = !lite; };
  dialect.addEventListener('change', sync);
  sync();
  const payload = () => {
    const b = { dialect: dialect.value, name: name.value.trim(), execution_mode: mode.value };
    if (dialect.value === 'sqlite') b.path = path.value.trim();
    else Object.assign(b, { host: host.value.trim() || null, port: port.value ? Number(port.value) : null, database: database.value.trim() || null, username: user.value.trim() || null, password: pass.value || null });
    return b;
  };
  const testBtn = h('button', { type: 'button', class: 'secondary', onclick: () => attempt(out, () => api.post('/connections/test', payload()), (r) => (r.ok ? `The database answers (${r.server_version || r.dialect}, ${r.latency_ms} ms).` : `It does not answer: ${r.error ? r.error.detail || r.error.message : ''}`)) }, 'Test');
  const f = h('form', { class: 'card' }, h('h2', {}, 'Add a connection'),
    h('div', { class: 'grid-fields' }, field('Dialect', dialect), field('Name', name), field('Execution mode', mode)), file, server,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add'), testBtn), out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (await attempt(out, () => api.post('/connections', payload()), 'Added.')) location.reload();
  });
  return f;
}

const list = (v) => (v || []).join(', ');
const split = (v) => v.split(',').map((x) => x.trim()).filter(Boolean);
const mappingsText = (ms) => (ms || []).map((m) => `${m.phrase}=${m.value}`).join('; ');
function parseMappings(text) {
  return text.split(';').map((x) => x.trim()).filter(Boolean).map((pair) => {
    const at = pair.indexOf('=');
    return at < 0 ? { phrase: pair, value: pair } : { phrase: pair.slice(0, at).trim(), value: pair.slice(at + 1).trim() };
  });
}

/** One text input bound to `obj[key]` (a list when `asList`). */
function bound(obj, key, label, asList) {
  const input = h('input', { 'aria-label': label, value: asList ? list(obj[key]) : obj[key] || '' });
  input.addEventListener('input', () => {
    obj[key] = asList ? split(input.value) : input.value.trim() || null;
  });
  return input;
}

/** The model as forms: tables and their columns, metrics; joins are kept as they are. */
function modelEditor(model) {
  const desc = h('textarea', { rows: 3 });
  desc.value = model.description || '';
  desc.addEventListener('input', () => { model.description = desc.value.trim() || null; });
  const tables = (model.tables || []).map((t) => {
    const cols = (t.columns || []).map((c) => {
      const maps = h('input', { 'aria-label': `Value mappings of ${t.table}.${c.column}`, value: mappingsText(c.value_mappings), placeholder: 'Germany=DE; active=1' });
      maps.addEventListener('input', () => { c.value_mappings = parseMappings(maps.value); });
      return h('tr', {},
        h('th', { scope: 'row' }, h('code', {}, c.column), c.data_type ? h('div', { class: 'muted small' }, c.data_type) : null),
        h('td', {}, bound(c, 'display_name', `Display name of ${t.table}.${c.column}`)),
        h('td', {}, bound(c, 'synonyms', `Synonyms of ${t.table}.${c.column}`, true)),
        h('td', {}, bound(c, 'description', `Description of ${t.table}.${c.column}`)),
        h('td', {}, maps));
    });
    return h('details', { class: 'card model-table' },
      h('summary', {}, h('strong', {}, t.display_name || t.table), ' ', h('code', { class: 'muted small' }, t.table), ` · ${cols.length} columns`),
      h('div', { class: 'grid-fields' },
        h('div', { class: 'field' }, h('label', {}, 'Display name'), bound(t, 'display_name', `Display name of ${t.table}`)),
        h('div', { class: 'field' }, h('label', {}, 'Synonyms (comma separated)'), bound(t, 'synonyms', `Synonyms of ${t.table}`, true)),
        h('div', { class: 'field' }, h('label', {}, 'What a row is'), bound(t, 'description', `Description of ${t.table}`))),
      h('div', { class: 'scroll' }, h('table', { class: 'grid' },
        h('thead', {}, h('tr', {}, ['Column', 'Display name', 'Synonyms', 'Description', 'Value mappings'].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', {}, cols))));
  });
  model.metrics = model.metrics || [];
  const metricRows = h('tbody', {});
  const metricRow = (m) => h('tr', {},
    h('td', {}, bound(m, 'name', 'Metric name')), h('td', {}, bound(m, 'table', 'Metric table')),
    h('td', {}, bound(m, 'expression', 'Metric SQL expression')), h('td', {}, bound(m, 'synonyms', 'Metric synonyms', true)),
    h('td', {}, bound(m, 'description', 'Metric description')));
  model.metrics.forEach((m) => metricRows.appendChild(metricRow(m)));
  const addMetric = h('button', { type: 'button', class: 'secondary small', onclick: () => {
    const m = { name: '', table: '', expression: '', synonyms: [] };
    model.metrics.push(m);
    metricRows.appendChild(metricRow(m));
  } }, 'Add a metric');
  return h('div', {},
    field('What the database is about', desc),
    h('h3', {}, 'Tables'), tables.length ? tables : h('p', { class: 'muted' }, 'The model describes no table yet.'),
    h('h3', {}, 'Metrics'),
    h('div', { class: 'scroll' }, h('table', { class: 'grid' },
      h('thead', {}, h('tr', {}, ['Name', 'Table', 'SQL expression', 'Synonyms', 'Description'].map((x) => h('th', { scope: 'col' }, x)))), metricRows)),
    h('div', { class: 'row-actions' }, addMetric),
    (model.joins || []).length ? h('p', { class: 'muted small' }, `${model.joins.length} join path(s) are kept as they are.`) : null);
}

function driftView(d) {
  const items = [];
  const add = (label, arr, fmt) => { if (arr && arr.length) items.push(h('li', {}, `${label}: `, arr.map(fmt).join(', '))); };
  add('Dropped tables', d.dropped_tables, String);
  add('Renamed tables', d.renamed_tables, (r) => `${r.from} → ${r.to}`);
  add('Dropped columns', d.dropped_columns, (c) => `${c.table}.${c.column}`);
  add('Renamed columns', d.renamed_columns, (r) => `${r.table}.${r.from} → ${r.to}`);
  add('Type changes', d.type_changes, (t) => `${t.table}.${t.column} ${t.from} → ${t.to}`);
  add('New tables', d.new_tables, String);
  add('New columns', d.new_columns, (c) => `${c.table}.${c.column}`);
  add('Broken references', d.broken_references, (b) => `${b.location}: ${b.problem}`);
  return h('div', { class: d.drifted ? 'notice' : 'card' },
    h('strong', {}, d.drifted ? `Version ${d.model_version} needs attention.` : `Version ${d.model_version} matches the live schema.`),
    items.length ? h('ul', {}, items) : null);
}

async function semantic(body) {
  const items = await api.all('/connections');
  if (!items.length) {
    replace(body, h('p', { class: 'muted' }, 'No connection yet.'));
    return;
  }
  const select = h('select', {}, items.map((c) => h('option', { value: c.id }, c.name)));
  const out = outcome();
  const drift = h('div', {});
  const editor = h('div', {});
  const raw = h('textarea', { rows: 14, class: 'json-input', spellcheck: 'false', 'aria-label': 'The model as JSON' });
  let model = null;
  const show = (m, note) => {
    model = m;
    replace(editor, modelEditor(model));
    raw.value = JSON.stringify(model, null, 2);
    out.className = 'small outcome';
    out.textContent = note;
  };
  const load = async () => {
    replace(drift);
    try {
      const m = await api.get(`/connections/${select.value}/semantic-model`);
      show(m, `Version ${m.version}.`);
    } catch (e) {
      if (e.code !== 'not_found') throw e;
      show({ tables: [], metrics: [], joins: [] }, 'No model yet: draft one from the schema.');
    }
  };
  select.addEventListener('change', () => load().catch((e) => { out.textContent = errorText(e); }));
  const save = async () => {
    const saved = await attempt(out, () => api.put(`/connections/${select.value}/semantic-model`, model));
    if (saved) show(saved, `Saved as version ${saved.version}.`);
  };
  const f = h('form', { class: 'card' },
    field('Connection', select),
    h('div', { class: 'actions' },
      h('button', { type: 'submit' }, 'Save as next version'),
      h('button', { type: 'button', class: 'secondary', onclick: async () => {
        if (model && model.version && !window.confirm('Replace the editor\'s contents with a fresh draft? Nothing is saved until you save.')) return;
        const draft = await attempt(out, () => api.post(`/connections/${select.value}/semantic-model/generate?provider=offline`, {}));
        if (draft) show({ ...draft, version: model && model.version ? model.version : null }, 'Draft from the schema (not saved yet).');
      } }, 'Draft from schema'),
      h('button', { type: 'button', class: 'secondary', onclick: async () => {
        const d = await attempt(out, () => api.get(`/connections/${select.value}/semantic-model/drift`));
        if (d) replace(drift, driftView(d));
      } }, 'Check drift')),
    out, drift, editor,
    h('details', {}, h('summary', {}, 'Edit as JSON'), raw,
      h('button', { type: 'button', class: 'secondary small', onclick: () => {
        try { show(JSON.parse(raw.value), 'JSON applied (not saved yet).'); } catch (e) { out.textContent = `Not valid JSON: ${e.message}`; }
      } }, 'Apply JSON')));
  f.addEventListener('submit', (ev) => { ev.preventDefault(); save(); });
  replace(body, f);
  await load();
}

async function providers(body) {
  const items = await api.all('/providers');
  const rows = items.map((p) => {
    const out = outcome();
    return h('tr', {}, h('td', {}, p.name), h('td', {}, p.kind), h('td', {}, p.model || ''), h('td', {}, p.is_default ? 'default' : ''),
      h('td', {}, h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'secondary small', onclick: () => attempt(out, () => api.post(`/providers/${p.id}/test`), (r) => (r.ok ? `OK (${r.latency_ms} ms)` : `Failed: ${r.error ? r.error.detail || r.error.message || '' : ''}`)) }, 'Test'),
        p.is_default ? null : h('button', { type: 'button', class: 'secondary small', onclick: async () => { if (await attempt(out, () => api.patch(`/providers/${p.id}`, { is_default: true }), 'Now the default.')) providers(body); } }, 'Make default')), out));
  });
  const name = h('input', { required: true });
  const kind = h('select', {}, ['openai', 'anthropic', 'offline'].map((k) => h('option', { value: k }, k)));
  const url = h('input', { placeholder: 'https://api.openai.com/v1' });
  const model = h('input', {});
  const key = h('input', { type: 'password', autocomplete: 'off' });
  const out = outcome();
  const f = h('form', { class: 'card' }, h('h2', {}, 'Add a provider'),
    h('div', { class: 'grid-fields' }, field('Name', name), field('Kind', kind), field('Base URL', url), field('Model', model), field('API key', key, 'Stored encrypted, never shown again.')),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add')), out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const b = { name: name.value.trim(), kind: kind.value, base_url: url.value.trim() || null, model: model.value.trim() || null, api_key: key.value || null };
    if (await attempt(out, () => api.post('/providers', b), 'Added.')) providers(body);
  });
  replace(body, items.length ? table(['Name', 'Kind', 'Model', '', ''], rows) : h('p', { class: 'muted' }, 'Only the built-in offline translator is configured.'), f);
}

async function users(body) {
  const parts = [];
  if (session.admin) {
    const list = await api.all('/users');
    parts.push(h('h2', {}, 'Users'), table(['User', 'Role', 'E-mail', 'State', 'Created'], list.map((u) =>
      h('tr', {}, h('td', {}, u.username), h('td', {}, u.role), h('td', {}, u.email || ''), h('td', {}, u.disabled ? 'disabled' : 'active'), h('td', {}, when(u.created_at))))));
    const name = h('input', { required: true, autocomplete: 'off' });
    const pass = h('input', { type: 'password', required: true, autocomplete: 'new-password' });
    const role = h('select', {}, ['member', 'admin'].map((r) => h('option', { value: r }, r)));
    const out = outcome();
    const f = h('form', { class: 'card' }, h('h3', {}, 'Add a user'), h('div', { class: 'grid-fields' }, field('Username', name), field('Password', pass, 'At least 8 characters.'), field('Server role', role)), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add user')), out);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (await attempt(out, () => api.post('/users', { username: name.value.trim(), password: pass.value, role: role.value }), 'Added.')) users(body);
    });
    parts.push(f);
  }
  const teams = await api.all('/teams');
  const everyone = session.admin ? await api.all('/users') : null;
  for (const t of teams) {
    const d = await api.get(`/teams/${t.id}`);
    const userSel = everyone
      ? h('select', { 'aria-label': `User to add to ${t.name}` }, everyone.map((u) => h('option', { value: u.id }, u.username)))
      : h('input', { placeholder: 'user id', 'aria-label': `User id to add to ${t.name}` });
    const role = h('select', { 'aria-label': 'Team role' }, ['viewer', 'editor', 'admin', 'owner'].map((r) => h('option', { value: r }, r)));
    const out = outcome();
    const f = h('form', { class: 'inline-form' }, userSel, role, h('button', { type: 'submit', class: 'small' }, 'Add or change member'), out);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (await attempt(out, () => api.post(`/teams/${t.id}/members/${encodeURIComponent(userSel.value.trim())}`, { role: role.value }), 'Saved.')) users(body);
    });
    parts.push(h('section', { class: 'card' }, h('h2', {}, `Team ${t.name}`),
      table(['Member', 'Role', 'User id'], (d.members || []).map((m) => h('tr', {}, h('td', {}, m.username), h('td', {}, m.role), h('td', {}, h('code', {}, m.user_id))))), f));
  }
  replace(body, parts);
}

async function clients(body) {
  const items = await api.all('/api-clients');
  const rows = items.map((c) => h('tr', {}, h('td', {}, c.name), h('td', {}, h('code', {}, c.client_id)), h('td', {}, c.scopes.join(', ')), h('td', {}, c.revoked ? 'revoked' : 'active'),
    h('td', {}, c.revoked ? null : h('button', { type: 'button', class: 'danger small', onclick: async () => { if (window.confirm(`Revoke ${c.name}?`)) { await api.del(`/api-clients/${c.id || c.client_id}`); clients(body); } } }, 'Revoke'))));
  const name = h('input', { required: true });
  const scopes = ['query:read', 'query:write', 'admin'].map((s) => h('input', { type: 'checkbox', value: s, checked: s === 'query:read' }));
  const out = h('div', { role: 'status', 'aria-live': 'polite' });
  const f = h('form', { class: 'card' }, h('h2', {}, 'Create an API client'), field('Name', name),
    h('fieldset', {}, h('legend', {}, 'Scopes'), scopes.map((c) => h('label', { class: 'check' }, c, ` ${c.value} `))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create')), out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const c = await api.post('/api-clients', { name: name.value.trim(), scopes: scopes.filter((s) => s.checked).map((s) => s.value) });
      replace(out, h('div', { class: 'notice secret-once' },
        h('strong', {}, 'Copy these now: the secret is shown only this once.'),
        h('dl', {}, h('dt', {}, 'Client id'), h('dd', {}, h('code', {}, c.client_id)), h('dt', {}, 'Client secret'), h('dd', {}, h('code', {}, c.client_secret)), h('dt', {}, 'API key'), h('dd', {}, h('code', {}, c.api_key)))));
    } catch (e) {
      replace(out, h('p', { class: 'form-error' }, errorText(e)));
    }
  });
  replace(body, items.length ? table(['Name', 'Client id', 'Scopes', 'State', ''], rows) : h('p', { class: 'muted' }, 'No API clients yet.'), f);
}

async function settings(body) {
  const s = await api.get('/settings');
  const inputs = {};
  const rows = Object.entries(s).map(([k, v]) => {
    const input = h('input', { value: String(v), 'aria-label': k });
    inputs[k] = [input, typeof v];
    return field(k.replaceAll('_', ' '), input);
  });
  const out = outcome();
  const f = h('form', { class: 'card' }, h('div', { class: 'grid-fields' }, rows), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save changes')), out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const patch = {};
    for (const [k, [input, type]] of Object.entries(inputs)) {
      if (String(s[k]) === input.value) continue;
      patch[k] = type === 'number' ? Number(input.value) : input.value;
    }
    await attempt(out, () => api.patch('/settings', patch), 'Saved.');
  });
  replace(body, f);
}

async function audit(body) {
  const page = await api.get('/audit?limit=100');
  const items = page.items || page;
  replace(body, table(['When', 'Who', 'Action', 'Target', 'Detail', 'IP'], items.map((a) =>
    h('tr', {}, h('td', {}, when(a.at)), h('td', {}, a.actor), h('td', {}, a.action), h('td', {}, a.target || ''), h('td', {}, a.detail || ''), h('td', {}, a.ip || '')))));
}
