// Building DOM without HTML strings: every server value becomes a text node.

/**
 * h('button', {class: 'x', onclick: fn, disabled: true}, 'text', child, [more])
 * Attributes whose name starts with "on" become listeners; `class`, `for`, `aria-*`,
 * `data-*` and the rest are set with setAttribute; booleans toggle the attribute.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Appends strings (as text), nodes and arrays of them. */
export function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let uid = 0;
/** A unique id for label/control pairs. */
export function id(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: label + control (+ hint). */
export function field(label, control, hint) {
  const cid = control.id || id();
  control.id = cid;
  const hintEl = hint ? h('small', { class: 'hint', id: `${cid}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: cid }, label), control, hintEl);
}

/** Formats an RFC 3339 time for people. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}
