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
    """The finding's related places: the rules' own `Finding.related` (range and message, in
    source order) where the rules give them, else the stores that clobber what it reads."""
    # `related` is the rules' typed field (RelatedLocation); read by name so this module works
    # with rules that predate it.
    given = getattr(finding, "related", ())
    if given:
        return tuple(RelatedPlace(range=place.range, message=place.message) for place in given)
    return tuple(
        RelatedPlace(
            range=clobber.written_range,
            message=f"the store into `{clobber.written_by}` overwrites what `{clobber.read}` reads",
        )
        for clobber in finding.clobbers
    )
