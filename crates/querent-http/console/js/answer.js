// One question and its answer, as it streams in and once it is done: stages, SQL, table,
// chart, explanation, errors, approval (approve, reject, edit), feedback, export, save.
import * as api from './api.js';
import { h, replace, field } from './dom.js';
import { sqlView } from './sql.js';
import { resultTable } from './table.js';
import { chartView } from './chart.js';

const STAGES = ['linking', 'cache', 'generating', 'validating', 'executing'];
const STATUS_TEXT = {
  running: 'Running',
  executed: 'Answered',
  cached: 'Answered from the cache',
  pending_approval: 'Waiting for approval',
  query_only: 'SQL only (not run)',
  rejected: 'Rejected',
  error: 'Failed',
};

function errorMessage(e) {
  return e instanceof api.ApiError ? e.detail : String(e.message || e);
}

/** A status badge. */
export function statusBadge(status) {
  return h('span', { class: `badge status-${status}`, 'data-status': status }, STATUS_TEXT[status] || status);
}

/** Validates SQL as it is typed (debounced) and shows the guard's verdict. */
export function sqlEditor(connectionId, initial, onSave, onCancel) {
  const area = h('textarea', { class: 'sql-input', rows: 6, spellcheck: 'false', 'aria-label': 'SQL' });
  area.value = initial || '';
  const verdict = h('div', { class: 'verdict', role: 'status', 'aria-live': 'polite' });
  const save = h('button', { type: 'button', class: 'save-sql' }, 'Save and continue');
  let timer = null;
  let seq = 0;
  async function check() {
    const mine = ++seq;
    try {
      const v = await api.post('/sql/validate', { connection_id: connectionId, sql: area.value });
      if (mine !== seq) return;
      if (v.valid) {
        replace(verdict, h('span', { class: 'ok' }, '✓ The guard accepts this statement.'), v.tables && v.tables.length ? h('span', { class: 'muted small' }, ` Reads ${v.tables.join(', ')}.`) : null);
        verdict.dataset.valid = 'true';
      } else {
        replace(
          verdict,
          h('span', { class: 'bad' }, v.detail || 'The guard refuses this statement.'),
          v.code ? h('code', { class: 'code' }, v.code) : null,
          v.suggestions && v.suggestions.length ? h('div', { class: 'small' }, 'Did you mean: ', v.suggestions.join(', '), '?') : null,
        );
        verdict.dataset.valid = 'false';
      }
    } catch (e) {
      if (mine === seq) replace(verdict, h('span', { class: 'bad' }, errorMessage(e)));
    }
  }
  area.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  });
  save.addEventListener('click', () => onSave(area.value));
  check();
  return h(
    'div',
    { class: 'sql-editor' },
    field('Edit the SQL', area, 'Checked by the guard as you type.'),
    verdict,
    h('div', { class: 'actions' }, save, h('button', { type: 'button', class: 'secondary', onclick: onCancel }, 'Cancel')),
  );
}

/**
 * A card for one question. `ctx` = {connectionId, canEdit, onSettled(resp)}.
 * Returns {el, event(name, data), fail(err), show(resp)}.
 */
export function answerCard(question, ctx) {
  const stages = h(
    'ol',
    { class: 'stages', 'aria-label': 'Progress' },
    STAGES.map((s) => h('li', { 'data-stage': s }, s)),
  );
  const body = h('div', { class: 'answer-body' });
  let controller = null;
  const stop = h('button', { type: 'button', class: 'secondary small stop', hidden: true, onclick: () => controller && controller.abort() }, 'Stop');
  const el = h(
    'article',
    { class: 'answer card', 'aria-busy': 'true' },
    h('h2', { class: 'question' }, question),
    h('div', { class: 'stage-row' }, stages, stop),
    body,
  );
  let partialSql = null;

  function markStage(name) {
    let seen = false;
    for (const li of stages.children) {
      if (li.dataset.stage === name) {
        li.className = 'active';
        li.setAttribute('aria-current', 'step');
        seen = true;
      } else {
        li.removeAttribute('aria-current');
        if (!seen) li.className = li.className === 'active' || li.className === 'done' ? 'done' : 'skipped';
      }
    }
  }

  function event(name, data) {
    if (name === 'status' && data && data.stage) markStage(data.stage);
    if (name === 'sql' && data && data.query && !partialSql) {
      partialSql = data.query;
      body.appendChild(sqlView(data.query));
    }
  }

  function fail(err) {
    el.removeAttribute('aria-busy');
    stages.hidden = true;
    replace(body, h('div', { class: 'error-box', role: 'alert' }, h('strong', {}, 'The question could not be answered. '), errorMessage(err), err && err.code ? h('code', { class: 'code' }, err.code) : null));
  }

  async function run(path, payload) {
    el.setAttribute('aria-busy', 'true');
    stages.hidden = false;
    for (const li of stages.children) li.className = '';
    partialSql = null;
    replace(body);
    controller = new AbortController();
    stop.hidden = false;
    try {
      const resp = await api.stream(path, payload, event, controller.signal);
      show(resp);
    } catch (e) {
      fail(e);
    } finally {
      stop.hidden = true;
      controller = null;
    }
  }

  function approvalBar(resp) {
    if (!ctx.canEdit) {
      return h('p', { class: 'notice' }, 'This connection asks an editor to review SQL before it runs. An editor will see it in Review.');
    }
    const bar = h('div', { class: 'actions approval' });
    const approve = h('button', { type: 'button', class: 'approve', onclick: () => run(`/chat/execute/${resp.message_id}`) }, 'Approve and run');
    const reject = h('button', {
      type: 'button',
      class: 'danger reject',
      onclick: async () => {
        try {
          show(await api.post(`/chat/reject/${resp.message_id}`));
        } catch (e) {
          fail(e);
        }
      },
    }, 'Reject');
    const edit = h('button', {
      type: 'button',
      class: 'secondary edit',
      onclick: () => {
        const editor = sqlEditor(ctx.connectionId, resp.query, (sql) => run(`/chat/edit/${resp.message_id}`, { sql }), () => editor.remove());
        bar.after(editor);
        editor.querySelector('textarea').focus();
      },
    }, 'Edit');
    bar.append(approve, reject, edit);
    return h('div', {}, h('p', { class: 'notice' }, 'This SQL waits for your approval before it runs.'), bar);
  }

  function feedbackBar(resp) {
    const note = h('span', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
    const send = (rating) => async (ev) => {
      const buttons = ev.currentTarget.parentElement.querySelectorAll('button.thumb');
      try {
        await api.post(`/chat/feedback/${resp.message_id}`, { rating });
        buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.rating === rating)));
        note.textContent = rating === 'up' ? 'Thanks: kept as a verified example.' : 'Thanks: this answer will not be reused.';
      } catch (e) {
        note.textContent = errorMessage(e);
      }
    };
    return h(
      'div',
      { class: 'feedback' },
      h('span', { class: 'small muted' }, 'Was this right?'),
      h('button', { type: 'button', class: 'thumb secondary small', 'data-rating': 'up', 'aria-pressed': 'false', onclick: send('up') }, '✓ Right'),
      h('button', { type: 'button', class: 'thumb secondary small', 'data-rating': 'down', 'aria-pressed': 'false', onclick: send('down') }, '✗ Wrong'),
      note,
    );
  }

  function exportBar(resp) {
    const base = `/sessions/${resp.session_id}/messages/${resp.message_id}/export`;
    const dl = (fmt) => () => api.download(`${base}?format=${fmt}`, `answer.${fmt}`).catch((e) => alertIn(e));
    const items = [
      h('button', { type: 'button', class: 'secondary small', onclick: dl('csv') }, 'Export CSV'),
      h('button', { type: 'button', class: 'secondary small', onclick: dl('xlsx') }, 'Export XLSX'),
    ];
    if (ctx.canEdit) {
      items.push(h('button', { type: 'button', class: 'secondary small save-query', onclick: () => saveForm(resp) }, 'Save as query'));
    }
    return h('div', { class: 'row-actions exports' }, items);
  }

  function alertIn(e) {
    body.appendChild(h('p', { class: 'form-error', role: 'alert' }, errorMessage(e)));
  }

  function saveForm(resp) {
    const name = h('input', { name: 'name', required: true, value: question.slice(0, 80) });
    const msg = h('span', { class: 'small', role: 'status', 'aria-live': 'polite' });
    const f = h('form', { class: 'inline-form' }, field('Name of the saved query', name), h('button', { type: 'submit' }, 'Save'), msg);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api.post('/queries', { message_id: resp.message_id, name: name.value.trim() });
        msg.textContent = 'Saved. Find it in Workspace.';
      } catch (e) {
        msg.textContent = errorMessage(e);
      }
    });
    body.appendChild(f);
    name.focus();
  }

  function show(resp) {
    el.removeAttribute('aria-busy');
    el.dataset.status = resp.status;
    el.dataset.messageId = resp.message_id;
    stages.hidden = true;
    const parts = [h('div', { class: 'answer-head' }, statusBadge(resp.status), resp.cache_hit && resp.status !== 'cached' ? h('span', { class: 'badge' }, 'from the cache') : null)];
    if (resp.error) {
      if (resp.error.code === 'cannot_translate') {
        parts.push(
          h('div', { class: 'help-box cannot-translate', role: 'note' },
            h('strong', {}, 'Querent could not turn this into SQL.'),
            h('p', {}, resp.error.detail),
            h('p', { class: 'muted small' }, 'Try naming the table or column, a time period, or a simpler question.')),
        );
      } else {
        parts.push(h('div', { class: 'error-box', role: 'alert' }, resp.error.detail, h('code', { class: 'code' }, resp.error.code)));
      }
    }
    if (resp.query) parts.push(sqlView(resp.query));
    if (resp.status === 'pending_approval') parts.push(approvalBar(resp));
    if (resp.results) {
      parts.push(resultTable(resp.results, question));
      const chart = chartView(resp.chart);
      if (chart) parts.push(chart);
    }
    if (resp.explanation) parts.push(h('p', { class: 'explanation' }, resp.explanation));
    if (resp.status === 'executed' || resp.status === 'cached') {
      parts.push(h('div', { class: 'answer-foot' }, feedbackBar(resp), exportBar(resp)));
    }
    replace(body, parts);
    if (ctx.onSettled) ctx.onSettled(resp);
  }

  return { el, event, fail, show, run };
}
