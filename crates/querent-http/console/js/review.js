// Review: SQL waiting for approval on connections where the caller is editor or above.
import * as api from './api.js';
import { h, replace, when } from './dom.js';
import { answerCard } from './answer.js';
import { canEditOn } from './ask.js';

export async function reviewScreen(view) {
  const connections = (await api.all('/connections')).filter(canEditOn);
  const lists = await Promise.all(
    connections.map(async (c) => ({ conn: c, items: await api.all(`/chat/pending?connection_id=${encodeURIComponent(c.id)}`) })),
  );
  const list = h('div', { class: 'thread', id: 'pending' });
  let count = 0;
  for (const { conn, items } of lists) {
    for (const m of items) {
      count += 1;
      const card = answerCard(m.question, { connectionId: conn.id, canEdit: true });
      card.show({
        session_id: m.session_id,
        message_id: m.id,
        query: m.sql,
        status: m.status,
        cache_hit: false,
        error: m.error,
        results: null,
      });
      card.el.prepend(h('p', { class: 'muted small' }, `Asked ${when(m.created_at)} on ${conn.name}`));
      list.appendChild(card.el);
    }
  }
  replace(
    view,
    h('div', { class: 'title-row' }, h('h1', {}, 'Review'), h('button', { type: 'button', class: 'secondary', onclick: () => reviewScreen(view) }, 'Refresh')),
    h('p', { class: 'muted', id: 'pending-count' }, count ? `${count} quer${count === 1 ? 'y waits' : 'ies wait'} for approval.` : 'Nothing waits for approval.'),
    list,
  );
}
