/**
 * Decoding of a Python `str` repr, as debug adapters (debugpy) answer `evaluate` requests:
 * `'{"schema": ...}'`. Handles both quote styles, `b`/`r`/`u` prefixes are not produced by
 * repr of a str and are rejected, and every escape `repr` can emit (`\\`, `\'`, `\n`, `\xhh`,
 * `\uhhhh`, `\Uhhhhhhhh`, octal) is decoded, so the JSON inside comes back byte for byte.
 */

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

export class PythonReprError extends Error {
  override name = 'PythonReprError';
}

/** The string a Python string literal (single- or double-quoted, one line) stands for. */
export function parsePythonStringLiteral(literal: string): string {
  const text = literal.trim();
  const quote = text[0];
  if ((quote !== "'" && quote !== '"') || text.length < 2 || text[text.length - 1] !== quote) {
    throw new PythonReprError(`not a quoted Python string: ${text.slice(0, 40)}`);
  }
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      if (c === quote) throw new PythonReprError(`unescaped quote at ${i + 1}`);
      out += c;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) throw new PythonReprError('dangling backslash');
    if (next in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[next];
      i += 1;
    } else if (next === 'x' || next === 'u' || next === 'U') {
      const width = next === 'x' ? 2 : next === 'u' ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + width);
      if (!new RegExp(`^[0-9a-fA-F]{${width}}$`).test(hex)) throw new PythonReprError(`bad \\${next} escape`);
      out += String.fromCodePoint(parseInt(hex, 16));
      i += 1 + width;
    } else if (/[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
      out += String.fromCodePoint(parseInt(octal, 8));
      i += octal.length;
    } else {
      // Python keeps unknown escapes as written (backslash included).
      out += c;
    }
  }
  return out;
}

/**
 * The text of an evaluate result: a quoted repr is decoded; anything else is taken as the
 * string itself (some adapters return `str()` for the clipboard context).
 */
export function decodeEvaluateResult(result: string): string {
  const text = result.trim();
  return text.startsWith("'") || text.startsWith('"') ? parsePythonStringLiteral(text) : text;
}
