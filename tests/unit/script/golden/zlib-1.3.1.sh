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
expected="fd506b77157b3628d6b73340476307449d241e359730fc921d6df862b8fc80e5"
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
out="/outputs/zlib-1.3.1.pkg"
{
    echo "package zlib 1.3.1"
    echo "source src sha256:fd506b77157b3628d6b73340476307449d241e359730fc921d6df862b8fc80e5"
    sed 's/^/source-line /' /inputs/src.source
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

