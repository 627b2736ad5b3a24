// Escaping for markup the exports build by hand (HTML and SVG share the rules).

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** Numbers in SVG coordinates: short and locale-free. */
export function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
