# debian_mirror SUITE: the Debian mirror apt's configured sources use for SUITE (deb822
# `.sources` first, then one-line `.list` files); $BUTIDO_DEBIAN_MIRROR wins. When no source
# names the suite, the mirror of the first Debian source (a mirror serves every suite). No
# hard-coded fallback: the scripts follow the machine's configuration (a local mirror, a proxy),
# and without any source they fail with a message saying what to configure. Sourced by
# scripts/images and scripts/services.
debian_mirror() {
    local m
    m=$(_debian_mirror_for "$1")
    [ -n "$m" ] || m=$(_debian_mirror_for "")
    if [ -z "$m" ]; then
        echo "error: no Debian mirror in apt's sources (/etc/apt/sources.list, /etc/apt/sources.list.d/)" >&2
        echo "hint: configure one there, or set BUTIDO_DEBIAN_MIRROR=http://<mirror>/debian" >&2
        return 1
    fi
    echo "$m"
}

# _debian_mirror_for SUITE: the first deb source URI for SUITE (any suite when SUITE is "").
_debian_mirror_for() {
    local suite=$1
    if [ -n "${BUTIDO_DEBIAN_MIRROR:-}" ]; then
        echo "$BUTIDO_DEBIAN_MIRROR"
        return
    fi
    local m=""
    # deb822 sources: the first stanza whose Suites contain exactly $suite.
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        m=$(awk -v suite="$suite" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (suite == "" || (" " suites " ") ~ (" " suite " ")) && uris != "" && found == "") {
                    split(uris, u, " "); found = u[1]
                }
                types = ""; suites = ""; uris = ""
            }
            FNR == 1 { flush() }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            { line = $0; sub(/^[^:]*:[ \t]*/, "", line) }
            tolower($1) == "types:" { types = line }
            tolower($1) == "suites:" { suites = line }
            tolower($1) == "uris:" { uris = line }
            END { flush(); print found }
        ' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    fi
    # one-line sources: "deb [options] URI SUITE COMPONENTS..."
    local -a lists=()
    [ -f /etc/apt/sources.list ] && lists+=(/etc/apt/sources.list)
    compgen -G '/etc/apt/sources.list.d/*.list' >/dev/null && lists+=(/etc/apt/sources.list.d/*.list)
    if [ -z "$m" ] && [ ${#lists[@]} -gt 0 ]; then
        m=$(awk -v suite="$suite" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }
                if (suite == "" || $(i + 1) == suite) { print $i; exit }
            }' "${lists[@]}" 2>/dev/null || true)
    fi
    echo "$m"
}
