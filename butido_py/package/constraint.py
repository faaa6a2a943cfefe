"""Version constraints given on the command line (butido-reference.md §2.6).

`=V` matches the version string exactly. `V` is a semver "exact" requirement where partial
versions match (`19` matches `19.0` and `19.3`, `1.2` and `1.2.x` match `1.2.7`); package
versions that are not strict semver are read as up to three digit groups (`19.0` is 19.0.0,
`1.0.2a` is 1.0.2).
Where butido crashed (a package version such as `1.0+git~rc` that is neither) or where `V` is not
a semver version, the match falls back to exact string equality.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"(0|[1-9][0-9]*)"
_IDENTS = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_STRICT = re.compile(rf"{_NUM}\.{_NUM}\.{_NUM}(?:-({_IDENTS}))?(?:\+{_IDENTS})?")
# semver's `=I`, `=I.J`, `=I.J.K[-pre]`; a wildcard (`x`, `X`, `*`) for J or K matches anything,
# as a missing part does (`1.x` is `1`, `1.2.*` is `1.2`); nothing but wildcards may follow one.
_WILD = r"[xX*]"
_REQUIREMENT = re.compile(
    rf"{_NUM}(?:\.{_NUM}(?:\.{_NUM}(?:-({_IDENTS}))?|\.{_WILD})?|\.{_WILD}(?:\.{_WILD})?)?"
)
_CONVERTIBLE = re.compile(r"[0-9A-Za-z._-]*")


@dataclass(frozen=True, slots=True)
class _SemVer:
    major: int
    minor: int
    patch: int
    pre: str


@dataclass(frozen=True, slots=True)
class _Requirement:
    major: int
    minor: int | None
    patch: int | None
    pre: str


@dataclass(frozen=True, slots=True)
class VersionConstraint:
    """A parsed CLI constraint; `matches` never raises."""

    text: str
    exact: str | None
    requirement: _Requirement | None

    def matches(self, version: str) -> bool:
        if self.requirement is None:
            return version == self.exact
        parsed = _parse_version(version)
        if parsed is None:
            return version == self.text
        return _matches(self.requirement, parsed)

    def __str__(self) -> str:
        return self.text


def parse_constraint(text: str) -> VersionConstraint:
    if text.startswith("="):
        return VersionConstraint(text=text, exact=text.removeprefix("="), requirement=None)
    match = _REQUIREMENT.fullmatch(text)
    if match is None:
        return VersionConstraint(text=text, exact=text, requirement=None)
    major, minor, patch, pre = match.groups()
    requirement = _Requirement(
        major=int(major),
        minor=None if minor is None else int(minor),
        patch=None if patch is None else int(patch),
        pre=pre or "",
    )
    return VersionConstraint(text=text, exact=None, requirement=requirement)


def _parse_version(version: str) -> _SemVer | None:
    strict = _STRICT.fullmatch(version)
    if strict is not None:
        major, minor, patch, pre = strict.groups()
        return _SemVer(int(major), int(minor), int(patch), pre or "")
    if not _CONVERTIBLE.fullmatch(version):
        return None
    groups = [int(g) for g in re.findall(r"[0-9]+", version)[:3]]
    groups += [0] * (3 - len(groups))
    return _SemVer(groups[0], groups[1], groups[2], "")


def _matches(req: _Requirement, version: _SemVer) -> bool:
    if version.major != req.major:
        return False
    if req.minor is not None and version.minor != req.minor:
        return False
    if req.patch is None:
        # Pre-releases only match a requirement that names the same full version (semver rules).
        return version.pre == ""
    return version.patch == req.patch and version.pre == req.pre
