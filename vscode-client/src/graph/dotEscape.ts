/**
 * Escaping of untrusted text (names come from the user's kernel) for DOT quoted strings.
 *
 * Inside a quoted DOT string graphviz interprets `\"`, `\\`, line escapes (`\n`, `\l`, `\r`)
 * and expansions (`\N`, `\G`, ...); in SVG output it passes `&name;` entities through as markup
 * entities. Escaping backslash, quote and ampersand first, and only then adding our own line
 * breaks, makes every kernel string render as exactly its own characters.
 */

/** One line of user text, escaped for a quoted DOT string (no surrounding quotes). */
export function escapeDotText(text: string): string {
  return (
    text
      .replace(/\\/g, '\\\\')
      .replace(/"/g, '\\"')
      .replace(/&/g, '&amp;')
      // A raw newline would still be a line break; control characters can break graphviz's
      // parser or the SVG (XML 1.0 forbids most of them), so show them as visible escapes.
      .replace(/\r\n|\r|\n/g, '\\\\n')
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  );
}

/** A quoted DOT string showing `lines` one per line, centred. */
export function dotLabel(lines: readonly string[]): string {
  return `"${lines.map(escapeDotText).join('\\n')}"`;
}

/** A quoted DOT string showing `lines` left-aligned (each line ends with `\l`). */
export function dotLeftLabel(lines: readonly string[]): string {
  return `"${lines.map((line) => `${escapeDotText(line)}\\l`).join('')}"`;
}

/** A DOT ID we generate ourselves; refuses anything but plain identifiers, as a guard. */
export function dotId(id: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(id)) throw new Error(`not a plain DOT identifier: ${id}`);
  return id;
}
