"""The guard's words: MIME bundles for warnings and rewrites, text for a blocked cell.

Every bundle has ``text/plain`` (terminal IPython, logs; it starts with the rule code) and
``text/html`` (notebooks). The rules' explanations are Markdown; the small subset they use
(paragraphs, numbered lines, inline code, fenced code) is turned into HTML here, and every
piece of user text is escaped first: names and code come from the user's cell.
"""

from __future__ import annotations

import html
import re

from tensorviews.rules import Finding, copy_fixed_statement

_STYLE = (
    "border-left:4px solid {color};padding:4px 10px;margin:4px 0;"
    "background:rgba(255,200,0,0.08);font-family:var(--jp-ui-font-family,sans-serif)"
)
_INLINE_CODE = re.compile(r"`([^`]+)`")


def fixed_line(finding: Finding, library: str | None = None,
               statement: str | None = None) -> str | None:
    """The preferred fixed statement; with ``library`` known, the fix in its words
    (``.clone()`` for torch, ``.copy()`` for numpy) when the rules offered several, or
    built on ``statement`` when the rules offered none (the item's type was unknown)."""
    if not finding.fixes:
        if library is None or statement is None:
            return None
        return copy_fixed_statement(statement, finding, library)
    if library is not None:
        method = ".clone()" if library == "torch" else ".copy()"
        for fix in finding.fixes:
            if method in fix.title:
                return fix.fixed_statement
        other = ".copy()" if method == ".clone()" else ".clone()"
        return finding.fixes[0].fixed_statement.replace(other, method)  # the value's library
    return finding.fixes[0].fixed_statement


def warning_bundle(finding: Finding, cell: str) -> dict[str, str]:
    """Shown before a cell runs: a certain finding of the rules."""
    where = f"{cell}, line {finding.range.line}"
    fix = fixed_line(finding)
    plain = f"{finding.code} {where}: {finding.message}"
    if fix:
        plain += f"\n  fixed line: {fix}"
    body = (
        f"<b>{_e(finding.code)}</b> <span>{_e(where)}</span>: {_inline(finding.message)}"
        f"<details><summary>why</summary>{markdown_to_html(finding.explanation)}</details>"
        + (f"<div>fixed line: <code>{_e(fix)}</code></div>" if fix else "")
    )
    return {"text/plain": plain, "text/html": _box(body, "#e0a000")}


def runtime_bundle(finding: Finding, cell: str, line: int, statement: str,
                   names: tuple[str, str, str], library: str,
                   fixed: bool = False) -> dict[str, str]:
    """Shown when an instrumented statement actually clobbered one of its values;
    ``names`` are the clobbered right-hand item, the earlier target that overwrote it, and
    the target that then received the new value instead of the old one."""
    read, written, receiver = names
    where = f"{cell}, line {line}"
    what = (f"the {library} view `{read}` was overwritten by the earlier store into "
            f"`{written}`, so `{receiver}` did not get its old value")
    fix = fixed_line(finding, library, statement)
    if fixed:
        what = (f"the {library} view `{read}` would have been overwritten by the earlier store "
                f"into `{written}`; the guard stored a copy of it, so the swap is correct")
    plain = f"{finding.code} {where}: swap of views happened at run time: {what}"
    plain += f"\n  statement: {statement}"
    if fix:
        plain += f"\n  fixed line: {fix}"
    body = (
        f"<b>{_e(finding.code)}</b> <span>{_e(where)}</span>: swap of views happened at run "
        f"time: {_inline(what)}<div>statement: <code>{_e(statement)}</code></div>"
        + (f"<div>fixed line: <code>{_e(fix)}</code></div>" if fix else "")
        + "<div><small>reported once per statement</small></div>"
    )
    return {"text/plain": plain, "text/html": _box(body, "#d04000")}


def rewrite_bundle(line: int, fixed: str, finding: Finding) -> dict[str, str]:
    """Announces what ``fix`` mode ran instead of the user's statement."""
    plain = f"tensorviews: rewrote line {line}: {fixed}  ({finding.code}: {finding.message})"
    body = (f"tensorviews: rewrote line {line}: <code>{_e(fixed)}</code> "
            f"<small>({_e(finding.code)}: {_inline(finding.message)})</small>")
    return {"text/plain": plain, "text/html": _box(body, "#2080d0")}


def blocked_lines(findings: list[Finding], cell: str) -> list[str]:
    """The one message of ``error`` mode (the cell did not run)."""
    lines = [f"tensorviews: {cell} was not run (guard mode 'error'):"]
    for finding in findings:
        lines.append(f"  {finding.code} line {finding.range.line}: {finding.message}")
        fix = fixed_line(finding)
        if fix:
            lines.append(f"    fixed line: {fix}")
    lines.append("  (fix the lines, or `%tensorviews guard warn` to run such cells anyway)")
    return lines


def markdown_to_html(text: str) -> str:
    """The rules' Markdown subset as HTML, escaped."""
    parts: list[str] = []
    in_code = False
    code: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            parts.append("<p>" + "<br>".join(_inline(p) for p in paragraph) + "</p>")
            paragraph.clear()

    for line in text.splitlines():
        if line.startswith("```"):
            if in_code:
                parts.append("<pre><code>" + _e("\n".join(code)) + "</code></pre>")
                code.clear()
            else:
                flush()
            in_code = not in_code
        elif in_code:
            code.append(line)
        elif not line.strip():
            flush()
        else:
            paragraph.append(line)
    if in_code and code:
        parts.append("<pre><code>" + _e("\n".join(code)) + "</code></pre>")
    flush()
    return "".join(parts)


def _inline(text: str) -> str:
    pieces = _INLINE_CODE.split(text)  # odd indexes are the code spans
    return "".join(f"<code>{_e(p)}</code>" if i % 2 else _e(p) for i, p in enumerate(pieces))


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _box(body: str, color: str) -> str:
    return f'<div class="tensorviews-guard" style="{_STYLE.format(color=color)}">{body}</div>'
