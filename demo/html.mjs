/**
 * A tiny HTML template tag. Every interpolated value is escaped unless it is itself the
 * result of `html` (or `raw`), so a page cannot forget to escape user input.
 */

class SafeHtml {
  /** @param {string} value */
  constructor(value) {
    this.value = value;
  }

  toString() {
    return this.value;
  }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** @param {string} text */
export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[/** @type {keyof ESCAPES} */ (char)]);
}

/** Marks trusted markup (never user input) as already safe. */
export function raw(/** @type {string} */ markup) {
  return new SafeHtml(markup);
}

/**
 * @param {unknown} value
 * @returns {string}
 */
function render(value) {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * @param {TemplateStringsArray} strings
 * @param {...unknown} values
 */
export function html(strings, ...values) {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}
