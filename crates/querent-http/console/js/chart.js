// Charts: the Vega-Lite spec the server suggests, drawn by the vendored vega-embed. The
// libraries (about 800 kB) load on the first chart only, as same-origin scripts.
import { h } from './dom.js';

const LIBS = [
  '/console/vendor/vega-5.33.1/vega.min.js',
  '/console/vendor/vega-lite-5.23.0/vega-lite.min.js',
  '/console/vendor/vega-embed-6.29.0/vega-embed.min.js',
];
let loading = null;

function load(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

function libraries() {
  if (!loading) {
    loading = LIBS.reduce((p, src) => p.then(() => load(src)), Promise.resolve()).catch((e) => {
      loading = null;
      throw e;
    });
  }
  return loading;
}

/**
 * Vega's tooltip hook without vega-tooltip (which injects an inline <style>, refused by
 * the page's policy): one positioned element whose text is the hovered datum.
 */
function tooltip(target) {
  const tip = h('div', { class: 'chart-tip', role: 'tooltip', hidden: true });
  target.after(tip);
  return (_handler, event, _item, value) => {
    if (value === null || value === undefined || value === '') {
      tip.hidden = true;
      return;
    }
    tip.textContent = typeof value === 'object'
      ? Object.entries(value).map(([k, v]) => `${k}: ${v}`).join('  ·  ')
      : String(value);
    const box = target.getBoundingClientRect();
    tip.style.left = `${event.clientX - box.left + 12}px`;
    tip.style.top = `${event.clientY - box.top + 12}px`;
    tip.hidden = false;
  };
}

const dark = () => window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches;

/**
 * A figure holding the chart of a suggestion ({kind, spec, x, y, note}); empty when there
 * is none. The spec carries its own rows (`data.values`).
 */
export function chartView(chart) {
  if (!chart || !chart.spec) return null;
  const target = h('div', { class: 'chart-canvas' });
  const caption = h('figcaption', { class: 'muted small' }, `${chart.kind} chart of ${chart.y || ''}${chart.x ? ` by ${chart.x}` : ''}`, chart.note ? ` — ${chart.note}` : '');
  const fig = h('figure', { class: 'chart', 'data-kind': chart.kind }, h('div', { class: 'chart-box' }, target), caption);
  const spec = { ...chart.spec, width: 'container', autosize: { type: 'fit', contains: 'padding' } };
  if (!spec.height) spec.height = 260;
  libraries()
    .then(() =>
      window.vegaEmbed(target, spec, {
        actions: false,
        renderer: 'svg',
        ast: true,
        defaultStyle: false,
        tooltip: tooltip(target),
        theme: dark() ? 'dark' : undefined,
        config: {
          background: null,
          font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
          mark: { tooltip: true },
          axisQuantitative: { tickCount: 8 },
        },
      }),
    )
    .then(() => fig.setAttribute('data-rendered', 'true'))
    .catch((e) => {
      target.replaceChildren(h('p', { class: 'form-error' }, `The chart could not be drawn: ${e.message}`));
      fig.setAttribute('data-rendered', 'error');
    });
  return fig;
}
