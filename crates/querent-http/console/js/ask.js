// Ask: pick a connection, ask, watch the answer stream in; follow-ups stay in the session.
import * as api from './api.js';
import { h, field, replace } from './dom.js';
import { answerCard } from './answer.js';
import { session } from './app.js';

const LAST_CONNECTION = 'querent.connection';

/** Whether the caller may approve and edit on a connection (editor or above in its team). */
export function canEditOn(conn) {
  if (session.admin) return true;
  const t = session.me.teams.find((m) => m.team_id === conn.team_id);
  return !!t && ['owner', 'admin', 'editor'].includes(t.role);
}

/** Continues the session of a history entry when opened from History. */
export const carry = { sessionId: null, connectionId: null };

export async function askScreen(view) {
  const connections = await api.all('/connections');
  if (!connections.length) {
    replace(
      view,
      h('h1', {}, 'Ask'),
      h('p', { class: 'notice' }, 'There is no connection yet. ', session.teamAdmin ? h('a', { href: '#/admin/connections' }, 'Add one in Admin.') : 'Ask a team admin to add one.'),
    );
    return;
  }
  const state = { sessionId: carry.sessionId, busy: false };
  const preferred = carry.connectionId || localStorage.getItem(LAST_CONNECTION);
  carry.sessionId = null;
  carry.connectionId = null;

  const select = h(
    'select',
    { id: 'connection', name: 'connection' },
    connections.map((c) => h('option', { value: c.id, selected: c.id === preferred }, `${c.name} (${c.dialect}, ${c.execution_mode.replace('_', ' ')})`)),
  );
  const question = h('textarea', {
    id: 'question',
    name: 'question',
    rows: 2,
    required: true,
    placeholder: 'How many customers are there?',
  });
  const ask = h('button', { type: 'submit', id: 'ask' }, 'Ask');
  const fresh = h('button', { type: 'button', class: 'secondary', id: 'new-conversation' }, 'New conversation');
  const explain = h('input', { type: 'checkbox', id: 'explain', checked: true });
  const thread = h('div', { class: 'thread', id: 'thread', 'aria-live': 'polite' });
  const sessionNote = h('p', { class: 'muted small', id: 'session-note' });

  const current = () => connections.find((c) => c.id === select.value) || connections[0];
  function noteSession() {
    sessionNote.textContent = state.sessionId ? 'Follow-up questions continue this conversation.' : 'A new conversation starts with your next question.';
  }
  select.addEventListener('change', () => {
    localStorage.setItem(LAST_CONNECTION, select.value);
    state.sessionId = null;
    thread.replaceChildren();
    noteSession();
  });
  fresh.addEventListener('click', () => {
    state.sessionId = null;
    thread.replaceChildren();
    noteSession();
    question.focus();
  });
  question.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });

  const form = h(
    'form',
    { class: 'ask-form card', id: 'ask-form' },
    h('div', { class: 'ask-row' }, field('Connection', select), h('label', { class: 'check' }, explain, ' Explain the answer')),
    field('Your question', question, 'Enter asks; Shift+Enter adds a line.'),
    h('div', { class: 'actions' }, ask, fresh),
    sessionNote,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = question.value.trim();
    if (!text || state.busy) return;
    const conn = current();
    state.busy = true;
    ask.disabled = true;
    const card = answerCard(text, {
      connectionId: conn.id,
      canEdit: canEditOn(conn),
      onSettled: (resp) => {
        if (resp.session_id) state.sessionId = resp.session_id;
        noteSession();
      },
    });
    thread.appendChild(card.el);
    card.el.scrollIntoView({ block: 'nearest' });
    question.value = '';
    try {
      await card.run('/chat', {
        connection_id: conn.id,
        message: text,
        session_id: state.sessionId,
        options: { explain_results: explain.checked, max_rows: 500 },
      });
    } finally {
      state.busy = false;
      ask.disabled = false;
      question.focus();
    }
  });

  noteSession();
  replace(view, h('h1', {}, 'Ask'), form, thread);
  if (state.sessionId) await showSession(state.sessionId, thread, current());
  question.focus();
}

/** The earlier messages of a session continued from History, read-only cards. */
async function showSession(id, thread, conn) {
  const detail = await api.get(`/sessions/${id}`);
  for (const m of detail.messages) {
    const card = answerCard(m.question, { connectionId: conn.id, canEdit: canEditOn(conn) });
    card.show(messageAsResponse(m));
    thread.appendChild(card.el);
  }
}

/** A stored message in the shape of a chat answer. */
export function messageAsResponse(m) {
  return {
    session_id: m.session_id,
    message_id: m.id,
    query: m.sql,
    explanation: m.explanation,
    results: m.results,
    status: m.status,
    cache_hit: m.status === 'cached',
    error: m.error,
    chart: null,
  };
}
