#!/bin/bash
### phase sourcecheck
echo '#BUTIDO:PHASE:sourcecheck'
# Helpers for the later phases: all phases run in one bash script.
# has_artifact "NAME VERSION": a *.pkg in /inputs, or the .PKGINFO of a *.tar.gz there, has
# the line "package NAME VERSION".
has_artifact() {
    local tarball
    grep -qsxF "package $1" /inputs/*.pkg && return 0
    for tarball in /inputs/*.tar.gz; do
        [ -f "$tarball" ] || continue
        tar -xzOf "$tarball" ./.PKGINFO 2> /dev/null | grep -qxF "package $1" && return 0
    done
    return 1
}
require_artifact() {
    local dep="${1/ =/ }"
    if ! has_artifact "$dep"; then
        echo "No artifact of the dependency $dep in /inputs:"
        ls -l /inputs
        echo '#BUTIDO:STATE:ERR:Missing dependency artifact'
        exit 1
    fi
    echo "found the artifact of $dep"
}
forbid_artifact() {
    if has_artifact "$1"; then
        echo "Unexpected artifact of $1 in /inputs: its condition does not hold"
        echo '#BUTIDO:STATE:ERR:Unexpected dependency artifact'
        exit 1
    fi
    echo "no artifact of $1, as expected"
}

src=/inputs/src.source
if [ ! -f "$src" ]; then
    echo "MISSING: $src"
    echo '#BUTIDO:STATE:ERR:Missing source'
    exit 1
fi
expected="ee7eb25a6a7f7179b43faec8a73e966a64a548e2e9222f02e244c2367645d8d9"
actual="$(sha256sum < "$src" | cut -d ' ' -f 1)"
if [ "$actual" != "$expected" ]; then
    echo "Hash mismatch of $src: expected $expected, got $actual"
    echo '#BUTIDO:STATE:ERR:Source hash mismatch'
    exit 1
fi
echo "source $src: sha256 $actual"
echo '#BUTIDO:PROGRESS:25'

### / sourcecheck phase

### phase patchcheck
echo '#BUTIDO:PHASE:patchcheck'
if [ ! -s "/patches/libs/zlib/zlib-pkgconfig.patch" ] || ! grep -q '^+++ ' "/patches/libs/zlib/zlib-pkgconfig.patch"; then
    echo "Missing or not a unified diff: /patches/libs/zlib/zlib-pkgconfig.patch"
    echo '#BUTIDO:STATE:ERR:Missing or invalid patch'
    exit 1
fi
echo "patch /patches/libs/zlib/zlib-pkgconfig.patch is present"
if [ ! -s "/patches/libs/zlib/1.2.13/CVE-2022-37434.patch" ] || ! grep -q '^+++ ' "/patches/libs/zlib/1.2.13/CVE-2022-37434.patch"; then
    echo "Missing or not a unified diff: /patches/libs/zlib/1.2.13/CVE-2022-37434.patch"
    echo '#BUTIDO:STATE:ERR:Missing or invalid patch'
    exit 1
fi
echo "patch /patches/libs/zlib/1.2.13/CVE-2022-37434.patch is present"
echo '#BUTIDO:PROGRESS:50'

### / patchcheck phase

### phase depcheck
echo '#BUTIDO:PHASE:depcheck'
require_artifact "make 4.4.1"
require_artifact "libc 2.38"
echo '#BUTIDO:PROGRESS:75'

### / depcheck phase

### phase build
echo '#BUTIDO:PHASE:build'
mkdir -p /outputs
out="/outputs/zlib-1.2.13.pkg"
{
    echo "package zlib 1.2.13"
    echo "source src sha256:ee7eb25a6a7f7179b43faec8a73e966a64a548e2e9222f02e244c2367645d8d9"
    sed 's/^/source-line /' /inputs/src.source
    echo "patch libs/zlib/zlib-pkgconfig.patch sha256:$(sha256sum < "/patches/libs/zlib/zlib-pkgconfig.patch" | cut -d ' ' -f 1)"
    echo "patch libs/zlib/1.2.13/CVE-2022-37434.patch sha256:$(sha256sum < "/patches/libs/zlib/1.2.13/CVE-2022-37434.patch" | cut -d ' ' -f 1)"
    for input in /inputs/*.pkg /inputs/*.tar.gz; do
        [ -f "$input" ] || continue
        echo "input ${input#/inputs/} sha256:$(sha256sum < "$input" | cut -d ' ' -f 1)"
    done
    env | grep '^BUILD_' | LC_ALL=C sort | sed 's/^/env /'
} > "$out"
echo "wrote $out:"
cat "$out"
echo '#BUTIDO:PROGRESS:100'
echo '#BUTIDO:STATE:OK'

### / build phase

