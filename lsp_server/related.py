"""The places a finding points to besides its own range, in words every client can show.

A swap-of-views finding names the earlier store that overwrites the memory a view reads; the
language server sends these as LSP `relatedInformation` and the CLI's SARIF as
`relatedLocations`. Ranges are in the finding's own file or notebook cell. No pygls here.
"""

from __future__ import annotations

from tensorviews.rules import Finding, RelatedLocation


def related_places(finding: Finding) -> tuple[RelatedLocation, ...]:
    """The rules' own related places (range and message, in source order); for a finding that
    carries none, the stores that clobber what it reads."""
    if finding.related:
        return finding.related
    return tuple(
        RelatedLocation(
            range=clobber.written_range,
            message=f"the store into `{clobber.written_by}` overwrites what `{clobber.read}` reads",
        )
        for clobber in finding.clobbers
    )
