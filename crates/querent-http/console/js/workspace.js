// Workspace: saved queries (run, export), dashboards with live widgets, workflows and
// their runs, questions answered in the background.
import * as api from './api.js';
import { h, field, replace, when } from './dom.js';
import { sqlView } from './sql.js';
import { resultTable } from './table.js';
import { chartView } from './chart.js';

function tabs(view, current) {
  const items = [
    ['queries', 'Saved queries'],
    ['dashboards', 'Dashboards'],
    ['workflows', 'Workflows'],
    ['questions', 'Background questions'],
  ];
  return h(
    'nav',
    { class: 'tabs', 'aria-label': 'Workspace' },
    items.map(([k, label]) => h('a', { href: `#/workspace/${k}`, 'aria-current': k === current ? 'page' : null }, label)),
  );
}

function errorText(e) {
  return e instanceof api.ApiError ? `${e.detail} (${e.code})` : String(e.message || e);
}

export async function workspaceScreen(view, rest) {
  const tab = rest[0] || 'queries';
  const body = h('div', {});
  replace(view, h('h1', {}, 'Workspace'), tabs(view, tab), body);
  if (tab === 'dashboards') return dashboards(body, rest[1]);
  if (tab === 'workflows') return workflows(body);
  if (tab === 'questions') return questions(body);
  return queries(body);
}

async function queries(body) {
  const items = await api.all('/queries');
  if (!items.length) {
    replace(body, h('p', { class: 'muted' }, 'No saved queries yet. Save an answer with "Save as query".'));
    return;
  }
  for (const q of items) {
    const out = h('div', {});
    const run = h('button', {
      type: 'button',
      class: 'small run-query',
      onclick: async () => {
        run.disabled = true;
        try {
          const r = await api.post(`/queries/${q.id}/run`, {});
          replace(out, resultTable(r.result, q.name), chartView(r.chart && r.chart.spec ? r.chart : null));
        } catch (e) {
          replace(out, h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
        } finally {
          run.disabled = false;
        }
      },
    }, 'Run');
    const dl = (fmt) => () => api.download(`/queries/${q.id}/export?format=${fmt}`, `${q.name}.${fmt}`).catch((e) => replace(out, h('p', { class: 'form-error' }, errorText(e))));
    body.appendChild(
      h('article', { class: 'card' },
        h('h2', {}, q.name),
        q.question ? h('p', { class: 'muted' }, q.question) : null,
        sqlView(q.sql),
        h('div', { class: 'row-actions' }, run,
          h('button', { type: 'button', class: 'secondary small', onclick: dl('csv') }, 'CSV'),
          h('button', { type: 'button', class: 'secondary small', onclick: dl('xlsx') }, 'XLSX')),
        out),
    );
  }
}

async function dashboards(body, id) {
  const items = await api.all('/dashboards');
  const list = h('ul', { class: 'list' }, items.map((d) => h('li', {}, h('a', { href: `#/workspace/dashboards/${d.id}` }, d.name))));
  replace(body, items.length ? list : h('p', { class: 'muted' }, 'No dashboards yet (create them through the API: POST /api/v1/dashboards).'));
  if (!id) return;
  const d = await api.get(`/dashboards/${id}`);
  const grid = h('div', { class: 'dash-grid' });
  for (const w of d.widgets || []) {
    const cell = h('section', { class: 'card widget' }, h('h3', {}, w.title || w.type));
    if (w.error) cell.appendChild(h('p', { class: 'form-error' }, w.error.detail));
    else if (w.chart) cell.appendChild(chartView({ kind: w.type, spec: w.chart }));
    else if (w.data) cell.appendChild(resultTable(w.data, w.title || w.type));
    if (w.chart_note) cell.appendChild(h('p', { class: 'muted small' }, w.chart_note));
    if (w.refreshed_at) cell.appendChild(h('p', { class: 'muted small' }, `Computed ${when(w.refreshed_at)}${w.cached ? ' (cached)' : ''}`));
    grid.appendChild(cell);
  }
  body.append(h('div', { class: 'title-row' }, h('h2', {}, d.name), h('button', { type: 'button', class: 'secondary', onclick: () => dashboards(body, id) }, 'Refresh')), grid);
}

async function workflows(body) {
  const items = await api.all('/workflows');
  if (!items.length) {
    replace(body, h('p', { class: 'muted' }, 'No workflows yet (create them through the API: POST /api/v1/workflows).'));
    return;
  }
  replace(body);
  for (const w of items) {
    const runs = h('div', {});
    body.appendChild(
      h('article', { class: 'card' },
        h('h2', {}, w.name),
        h('p', { class: 'muted small' }, w.schedule ? `Schedule: ${w.schedule.cron || ''} ${w.schedule.timezone || ''}` : 'Run by hand', w.next_run_at ? ` · next ${when(w.next_run_at)}` : '', w.enabled === false ? ' · disabled' : ''),
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', class: 'small', onclick: async () => {
            try { await api.post(`/workflows/${w.id}/run?wait=true`, {}); } catch (e) { runs.prepend(h('p', { class: 'form-error' }, errorText(e))); }
            showRuns(w.id, runs);
          } }, 'Run now'),
          h('button', { type: 'button', class: 'secondary small', onclick: () => showRuns(w.id, runs) }, 'Runs')),
        runs),
    );
  }
}

async function showRuns(id, el) {
  const page = await api.get(`/workflows/${id}/runs?limit=20`);
  replace(el, h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, ['Started', 'Status', 'Trigger'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, page.items.map((r) => h('tr', {}, h('td', {}, when(r.started_at || r.created_at)), h('td', {}, r.status, r.error ? ` — ${r.error}` : ''), h('td', {}, r.trigger))))));
}

async function questions(body) {
  const connections = await api.all('/connections');
  const select = h('select', {}, connections.map((c) => h('option', { value: c.id }, c.name)));
  const text = h('input', { required: true, placeholder: 'How many orders were placed last month?' });
  const out = h('div', { role: 'status', 'aria-live': 'polite' });
  const f = h('form', { class: 'card' },
    h('p', { class: 'muted' }, 'A background question is answered by a worker; you can leave and come back with its id.'),
    field('Connection', select), field('Question', text), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Ask in the background')), out);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const accepted = await api.post('/questions', { connection_id: select.value, question: text.value.trim() });
      const qid = accepted.question_id;
      replace(out, h('p', {}, `Queued as ${qid}. Waiting…`));
      for (let i = 0; i < 120; i += 1) {
        const q = await api.get(`/questions/${qid}?include=sql_query,response_summary`);
        if (q.state === 'COMPLETED' || q.state === 'FAILED') {
          replace(out, h('p', {}, `${q.state}`), q.error ? h('p', { class: 'form-error' }, q.error.detail || '') : null,
            q.results && q.results.sql_query ? sqlView(q.results.sql_query) : null,
            q.results && q.results.response_summary ? h('p', {}, q.results.response_summary) : null);
          return;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (e) {
      replace(out, h('p', { class: 'form-error', role: 'alert' }, errorText(e)));
    }
  });
  replace(body, f);
}
