// History: the caller's conversations and their messages; continue, re-run, export, save.
import * as api from './api.js';
import { h, replace, when } from './dom.js';
import { answerCard } from './answer.js';
import { canEditOn, carry, messageAsResponse } from './ask.js';

export async function historyScreen(view, rest) {
  const [sessions, connections] = await Promise.all([api.all('/sessions'), api.all('/connections')]);
  const byId = new Map(connections.map((c) => [c.id, c]));
  sessions.reverse();
  const detail = h('section', { class: 'history-detail', 'aria-label': 'Conversation' });
  const list = h(
    'ul',
    { class: 'list', id: 'sessions' },
    sessions.map((s) =>
      h(
        'li',
        {},
        h('a', { href: `#/history/${s.id}`, 'aria-current': rest[0] === s.id ? 'true' : null }, s.title || '(untitled)'),
        h('div', { class: 'muted small' }, `${byId.get(s.connection_id)?.name || ''} · ${when(s.updated_at)}`),
      ),
    ),
  );
  replace(
    view,
    h('h1', {}, 'History'),
    sessions.length
      ? h('div', { class: 'split' }, h('nav', { 'aria-label': 'Conversations' }, list), detail)
      : h('p', { class: 'muted' }, 'No conversations yet. Ask something first.'),
  );
  const chosen = sessions.find((s) => s.id === rest[0]);
  if (!chosen) {
    if (sessions.length) detail.appendChild(h('p', { class: 'muted' }, 'Pick a conversation.'));
    return;
  }
  const conn = byId.get(chosen.connection_id);
  const d = await api.get(`/sessions/${chosen.id}`);
  const cont = h('button', {
    type: 'button',
    onclick: () => {
      carry.sessionId = chosen.id;
      carry.connectionId = chosen.connection_id;
      location.hash = '#/ask';
    },
  }, 'Continue this conversation');
  const remove = h('button', {
    type: 'button',
    class: 'danger',
    onclick: async () => {
      if (!window.confirm('Delete this conversation and its messages?')) return;
      await api.del(`/sessions/${chosen.id}`);
      location.hash = '#/history';
    },
  }, 'Delete');
  replace(detail, h('div', { class: 'title-row' }, h('h2', {}, chosen.title), h('div', { class: 'actions' }, cont, remove)));
  for (const m of d.messages) {
    const card = answerCard(m.question, { connectionId: chosen.connection_id, canEdit: conn ? canEditOn(conn) : false });
    card.show(messageAsResponse(m));
    if (conn) {
      card.el.querySelector('.answer-head').appendChild(
        h('button', {
          type: 'button',
          class: 'secondary small rerun',
          onclick: () =>
            card.run('/chat', { connection_id: chosen.connection_id, message: m.question, session_id: chosen.id, options: { max_rows: 500 } }),
        }, 'Re-run'),
      );
    }
    detail.appendChild(card.el);
  }
}
