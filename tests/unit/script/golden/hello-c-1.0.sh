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
expected="6e9cf20778ece4a2d9ef27986a5f431f48036761f71e7793094df020cb7b472e"
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
for tool in gcc make tar gzip; do
    if ! command -v "$tool" > /dev/null; then
        echo "No $tool in this image: hello-c needs a C tool chain (gcc, libc6-dev, make): -I debian"
        echo '#BUTIDO:STATE:ERR:No C tool chain in the image'
        exit 1
    fi
done
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    echo "SOURCE_DATE_EPOCH is not set: the time stamps in the tarball would not be reproducible"
    echo '#BUTIDO:STATE:ERR:SOURCE_DATE_EPOCH not set'
    exit 1
fi
fail() {
    echo "hello-c: $1 failed"
    echo '#BUTIDO:STATE:ERR:Build failed'
    exit 1
}
export LC_ALL=C TZ=UTC
umask 022
work="/tmp/build-hello-c-1.0"
rm -rf "$work" && mkdir -p "$work/src" "$work/root" || fail "creating $work"
cp /inputs/src.source "$work/src/hello-c.c" || fail "copying the source"
cd "$work/src" || fail "entering $work/src"
cflags="-O2 -Wall -Wextra -Werror -Wdate-time -ffile-prefix-map=$work=. -frandom-seed=hello-c"
# make's built-in rule runs: gcc $cflags -Wl,--build-id=sha1 hello-c.c -o hello-c
make hello-c CC=gcc CFLAGS="$cflags" LDFLAGS="-Wl,--build-id=sha1" || fail "compiling hello-c.c"

output="$(./hello-c)" || fail "running hello-c"
expected=$'Hello, world!\ncrc32(world) = 3a771143'
if [ "$output" != "$expected" ]; then
    echo "hello-c printed:"
    echo "$output"
    echo "expected:"
    echo "$expected"
    echo '#BUTIDO:STATE:ERR:Wrong output of the program'
    exit 1
fi
echo "hello-c runs and prints what it should: ${output//$'\n'/ | }"

root="$work/root"
install -d "$root/usr/bin" || fail "creating $root/usr/bin"
install -m 755 hello-c "$root/usr/bin/hello-c" || fail "installing hello-c"
{
    echo "package hello-c 1.0"
    echo "source src sha256:6e9cf20778ece4a2d9ef27986a5f431f48036761f71e7793094df020cb7b472e"
    echo "compiler $(gcc --version | head -n 1)"
    echo "cflags $cflags"
    echo "file usr/bin/hello-c sha256:$(sha256sum < "$root/usr/bin/hello-c" | cut -d ' ' -f 1)"
    for input in /inputs/*.pkg; do
        [ -f "$input" ] || continue
        echo "input ${input#/inputs/} sha256:$(sha256sum < "$input" | cut -d ' ' -f 1)"
    done
    env | grep '^BUILD_' | LC_ALL=C sort | sed 's/^/env /'
} > "$root/.PKGINFO"

mkdir -p /outputs
out="/outputs/hello-c-1.0.tar"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=gnu -C "$root" -cf "$out" . || fail "tar"
gzip -n -9 -f "$out" || fail "gzip"
echo "wrote $out.gz:"
tar -tvzf "$out.gz"
tar -xzOf "$out.gz" ./.PKGINFO
echo '#BUTIDO:PROGRESS:100'
echo '#BUTIDO:STATE:OK'

### / build phase

