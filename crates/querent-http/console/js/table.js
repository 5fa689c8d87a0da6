// The result table: sortable by any column, paged, numbers right-aligned and formatted,
// masked cells marked as masked. Every value is a text node.
import { h, replace } from './dom.js';

const PAGE = 25;
const NUMERIC = /^(int|integer|bigint|smallint|tinyint|mediumint|int2|int4|int8|serial|bigserial|numeric|decimal|real|double|float|float4|float8|money|number)/i;
const fmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 });

function isNumeric(type, values) {
  if (NUMERIC.test(type || '')) return true;
  const seen = values.filter((v) => v !== null && v !== undefined);
  return seen.length > 0 && seen.every((v) => typeof v === 'number');
}

function display(v, numeric) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return fmt.format(v);
  if (numeric && typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && v.length < 16) return fmt.format(Number(v));
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function compare(a, b, numeric) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (numeric) return Number(a) - Number(b);
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** A table of a ResultSet ({columns, column_types, masked_columns, rows, …}). */
export function resultTable(result, caption) {
  const cols = result.columns || [];
  const masked = new Set(result.masked_columns || []);
  const numeric = cols.map((_, i) => isNumeric((result.column_types || [])[i], result.rows.map((r) => r[i])));
  const state = { sort: null, desc: false, page: 0 };
  const wrap = h('div', { class: 'result' });
  const table = h('table', { class: 'grid' });
  const pager = h('div', { class: 'pager' });

  function rows() {
    const rs = result.rows.slice();
    if (state.sort !== null) {
      const i = state.sort;
      rs.sort((a, b) => compare(a[i], b[i], numeric[i]) * (state.desc ? -1 : 1));
    }
    return rs;
  }

  function draw() {
    const all = rows();
    const pages = Math.max(1, Math.ceil(all.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const head = h(
      'tr',
      {},
      cols.map((c, i) => {
        const sorted = state.sort === i ? (state.desc ? 'descending' : 'ascending') : 'none';
        return h(
          'th',
          { scope: 'col', class: numeric[i] ? 'num' : null, 'aria-sort': sorted },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              onclick: () => {
                if (state.sort === i) state.desc = !state.desc;
                else {
                  state.sort = i;
                  state.desc = false;
                }
                draw();
              },
            },
            c,
            masked.has(c) ? h('span', { class: 'badge masked-badge', title: 'masked by the privacy policy' }, 'masked') : null,
            h('span', { class: 'arrow', 'aria-hidden': 'true' }, sorted === 'ascending' ? '▲' : sorted === 'descending' ? '▼' : ''),
          ),
        );
      }),
    );
    const body = all.slice(state.page * PAGE, (state.page + 1) * PAGE).map((r) =>
      h(
        'tr',
        {},
        r.map((v, i) => {
          const text = display(v, numeric[i]);
          const cls = [numeric[i] ? 'num' : '', masked.has(cols[i]) ? 'masked' : '', text === null ? 'null' : '']
            .filter(Boolean)
            .join(' ');
          return h('td', { class: cls || null, title: masked.has(cols[i]) ? 'masked by the privacy policy' : null }, text === null ? 'null' : text);
        }),
      ),
    );
    replace(table, caption ? h('caption', { class: 'sr-only' }, caption) : null, h('thead', {}, head), h('tbody', {}, body));
    replace(
      pager,
      h('span', { class: 'muted small' }, `${result.row_count ?? result.rows.length} row${(result.row_count ?? result.rows.length) === 1 ? '' : 's'}`,
        result.truncated ? ` (cut at ${result.truncated_reason === 'row_cap' ? `${result.truncated_limit} rows` : 'a size limit'})` : '',
        result.preview ? ' (preview of the stored rows)' : ''),
      pages > 1
        ? h(
            'span',
            { class: 'pages' },
            h('button', { type: 'button', class: 'secondary small', disabled: state.page === 0, 'aria-label': 'Previous page', onclick: () => { state.page -= 1; draw(); } }, '‹'),
            h('span', { class: 'small' }, ` page ${state.page + 1} of ${pages} `),
            h('button', { type: 'button', class: 'secondary small', disabled: state.page >= pages - 1, 'aria-label': 'Next page', onclick: () => { state.page += 1; draw(); } }, '›'),
          )
        : null,
    );
  }
  draw();
  wrap.append(h('div', { class: 'scroll' }, table), pager);
  return wrap;
}
