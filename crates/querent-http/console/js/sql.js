// SQL shown with simple highlighting: the text is split into tokens, each a text node in a
// span; nothing is ever parsed as HTML.
import { h } from './dom.js';

const KEYWORDS = new Set(
  ('select from where group by order having limit offset join left right inner outer full cross on as and or not in is null ' +
    'like ilike between case when then else end distinct union all intersect except with asc desc count sum avg min max ' +
    'cast extract interval date timestamp true false over partition fetch first rows only exists any coalesce round lower upper')
    .split(' '),
);

const TOKEN = /(--[^\n]*|\/\*[\s\S]*?\*\/)|('(?:[^']|'')*')|("(?:[^"]|"")*"|`[^`]*`)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_][A-Za-z0-9_]*)|(\s+|.)/g;

/** A <pre><code> of the SQL with keyword, string, number, identifier and comment spans. */
export function sqlBlock(sql) {
  const code = h('code', { class: 'sql' });
  let m;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(sql)) !== null) {
    const [text, comment, str, quoted, num, word] = m;
    let cls = null;
    if (comment) cls = 'c';
    else if (str) cls = 's';
    else if (quoted) cls = 'q';
    else if (num) cls = 'n';
    else if (word && KEYWORDS.has(word.toLowerCase())) cls = 'k';
    code.appendChild(cls ? h('span', { class: `t-${cls}` }, text) : document.createTextNode(text));
  }
  return h('pre', { class: 'sql-block' }, code);
}

/** The SQL block with a Copy button. */
export function sqlView(sql) {
  const status = h('span', { class: 'muted small', role: 'status', 'aria-live': 'polite' });
  const copy = h(
    'button',
    {
      type: 'button',
      class: 'secondary small copy-sql',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(sql);
          status.textContent = 'Copied.';
        } catch {
          // No clipboard permission (plain http, say): select the text for Ctrl+C instead.
          const range = document.createRange();
          range.selectNodeContents(block);
          const sel = window.getSelection();
          sel.removeAllRanges();
          sel.addRange(range);
          status.textContent = 'Selected: press Ctrl+C to copy.';
        }
      },
    },
    'Copy SQL',
  );
  const block = sqlBlock(sql);
  return h('div', { class: 'sql-wrap' }, block, h('div', { class: 'row-actions' }, copy, status));
}
