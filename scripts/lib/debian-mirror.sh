# debian_mirror SUITE: the Debian mirror apt's configured sources use for SUITE (deb822
# `.sources` first, then one-line `.list` files); $BUTIDO_DEBIAN_MIRROR wins. Falls back to
# deb.debian.org only when no source names the suite. Sourced by scripts/images and
# scripts/services.
debian_mirror() {
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
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "" && found == "") {
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
                if ($(i + 1) == suite) { print $i; exit }
            }' "${lists[@]}" 2>/dev/null || true)
    fi
    echo "${m:-http://deb.debian.org/debian}"
}
