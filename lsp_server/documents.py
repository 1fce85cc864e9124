"""What the server knows about an open `.py` file or notebook: its text, versions and findings.

Plain data and functions, no pygls: the server takes a `Snapshot` of the workspace on its event
loop, `analyse` runs the rules on it in a worker process (everything here pickles), and the
features read the resulting `AnalysedDocument`s, one per file or per notebook cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsp_server.limits import describe_size, too_big
from tensorviews.rules import (
    ContainerKind,
    Finding,
    find_swap_hazards,
    find_swap_hazards_in_cells,
    python_only,
    split_lines,
)

if TYPE_CHECKING:
    from lsp_server.options import Settings

@dataclass(frozen=True)
class Source:
    """One document's text at one version: a `.py` file or a notebook cell."""

    uri: str
    version: int | None
    text: str


@dataclass(frozen=True)
class Snapshot:
    """The inputs of one analysis: a file, or the Python cells of one notebook in order."""

    key: str
    sources: tuple[Source, ...]
    is_notebook: bool
    settings: Settings
    # Real types of top-level names from a live kernel running this document (name, kind).
    known_types: tuple[tuple[str, ContainerKind], ...] = ()
    known_ndims: tuple[tuple[str, int], ...] = ()

    @property
    def stamp(self) -> tuple[object, ...]:
        """Equal stamps mean equal inputs, so an analysis of one serves the other."""
        return (
            self.settings,
            self.known_types,
            self.known_ndims,
            *((source.uri, source.version) for source in self.sources),
        )


@dataclass(frozen=True)
class AnalysedDocument:
    """The findings the user should see in one document, with the lines to convert positions."""

    uri: str
    version: int | None
    lines: tuple[str, ...]
    findings: tuple[Finding, ...]
    # Why the rules did not look at it (above the size limit), in words for the user.
    not_checked: str | None = None


def is_visible(finding: Finding, settings: Settings) -> bool:
    """Whether the user wants to see `finding` ("possible" findings can be switched off)."""
    if finding.code not in settings.enabled:
        return False
    return finding.severity != "information" or settings.possible_severity != "off"


def warm_up() -> None:
    """Run in a new analysis worker so that it imports the rules before the first document."""


def text_size(snapshot: Snapshot) -> int:
    """Bytes of UTF-8 text the rules would judge: the file, or all of a notebook's cells."""
    return sum(len(source.text.encode("utf-8", "surrogatepass")) for source in snapshot.sources)


def analyse(snapshot: Snapshot) -> tuple[AnalysedDocument, ...]:
    """Run the rules on a snapshot; a notebook's cells see the types of the cells above them.

    A snapshot above the settings' size limit is not judged: its documents have no findings and
    say why in `not_checked` (the rules' time and memory grow with the text)."""
    limit = snapshot.settings.max_file_size
    size = text_size(snapshot)
    if too_big(size, limit):
        what = "notebook" if snapshot.is_notebook else "file"
        reason = (
            f"Tensor Views does not check this {what}: {describe_size(size)} is above the "
            f"{describe_size(limit)} limit (setting `tensorviews.maxFileSize`)"
        )
        return tuple(
            AnalysedDocument(
                uri=source.uri,
                version=source.version,
                lines=split_lines(source.text),
                findings=(),
                not_checked=reason,
            )
            for source in snapshot.sources
        )
    enabled = sorted(snapshot.settings.enabled)
    kinds, ndims = dict(snapshot.known_types), dict(snapshot.known_ndims)
    if snapshot.is_notebook:
        cells = [python_only(source.text) for source in snapshot.sources]
        per_source = find_swap_hazards_in_cells(
            cells, enabled=enabled, known_types=kinds, known_ndims=ndims
        )
    else:
        per_source = [
            find_swap_hazards(source.text, enabled=enabled, known_types=kinds, known_ndims=ndims)
            for source in snapshot.sources
        ]
    return tuple(
        AnalysedDocument(
            uri=source.uri,
            version=source.version,
            lines=split_lines(source.text),
            findings=tuple(f for f in findings if is_visible(f, snapshot.settings)),
        )
        for source, findings in zip(snapshot.sources, per_source, strict=True)
    )
