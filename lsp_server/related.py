"""The places a finding points to besides its own range, in words every client can show.

A swap-of-views finding names the earlier store that overwrites the memory a view reads; the
language server sends these as LSP `relatedInformation` and the CLI's SARIF as
`relatedLocations`. Ranges are in the finding's own file or notebook cell. No pygls here.
"""

from __future__ import annotations

from dataclasses import dataclass

from tensorviews.rules import Finding, Range


@dataclass(frozen=True)
class RelatedPlace:
    """One related location of a finding, with what happens there."""

    range: Range
    message: str


def related_places(finding: Finding) -> tuple[RelatedPlace, ...]:
    """The stores that clobber what the finding's statement reads, in source order."""
    return tuple(
        RelatedPlace(
            range=clobber.written_range,
            message=f"the store into `{clobber.written_by}` overwrites what `{clobber.read}` reads",
        )
        for clobber in finding.clobbers
    )
