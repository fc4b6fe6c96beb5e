#!/usr/bin/env bash
# Installs what bench/net.sh and bench/net-compare.sh compare against: Suricata 7 from
# Debian's bookworm-backports suite and hyperfine. Needs root.
#
# When no enabled apt source carries bookworm-backports, one is added that uses the
# mirror this machine already uses for bookworm: the URIs (and Signed-By, if given) of
# every enabled `deb` entry for suite bookworm with component main, read from
# sources.list (one-line format `deb [options] URI SUITE COMPONENT...`) and from
# sources.list.d/*.list and *.sources (deb822 stanzas: `Types:`, `URIs:`, `Suites:`,
# `Components:`, `Signed-By:`, `Enabled:`). The repository names no mirror of its own.
#
#   DRY_RUN=1 bench/net-peers.sh       prints the source it would add; writes and
#                                      installs nothing (no root needed)
#   APT_ETC=DIR                        reads DIR/sources.list and DIR/sources.list.d/
#                                      instead of /etc/apt (for trying the parsing)
set -euo pipefail
APT_ETC=${APT_ETC:-/etc/apt}
BACKPORTS=bookworm-backports
MAIN_SUITE=${BACKPORTS%-backports}
DRY_RUN=${DRY_RUN:-0}

# apt's source files, in the order apt reads them; other names (*.disabled, *.save)
# are ignored by apt and so here.
source_files() {
    [ -f "$APT_ETC/sources.list" ] && printf '%s\n' "$APT_ETC/sources.list"
    local f
    for f in "$APT_ETC"/sources.list.d/*.list "$APT_ETC"/sources.list.d/*.sources; do
        [ -f "$f" ] && printf '%s\n' "$f"
    done
    return 0
}

# entries MODE SUITE FILE: reads one source file. MODE=stanzas prints, for every
# enabled `deb` entry of SUITE with component main, a deb822 stanza for
# $BACKPORTS with that entry's URIs and Signed-By, stanzas separated by a blank
# line. MODE=has prints "yes" if any enabled `deb` entry carries SUITE.
entries() {
    local mode=$1 suite=$2 file=$3 format=one-line
    case "$file" in *.sources) format=deb822 ;; esac
    awk -v mode="$mode" -v want="$suite" -v target="$BACKPORTS" -v format="$format" '
        function has_word(list, word,    n, a, i) {
            n = split(list, a)
            for (i = 1; i <= n; i++) if (a[i] == word) return 1
            return 0
        }
        function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t\r]+$/, "", s); return s }
        # One entry: its types, URIs, suites, components, Signed-By (first line and
        # continuation lines kept as written, for a key embedded in the stanza).
        function entry(types, uris, suites, components, signed_first, signed_rest) {
            if (!has_word(types, "deb") || uris == "" || !has_word(suites, want)) return
            if (mode == "has") { print "yes"; return }
            if (!has_word(components, "main")) return
            printf "Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n", uris, target
            if (signed_first != "" || signed_rest != "")
                printf "Signed-By:%s%s\n", (signed_first == "" ? "" : " " signed_first), signed_rest
            print ""
        }
        function flush() {
            if (n_fields && tolower(trim(val["enabled"])) != "no")
                entry(val["types"], trim(val["uris"]), val["suites"], val["components"],
                      trim(first["signed-by"]), rest["signed-by"])
            delete val; delete first; delete rest; n_fields = 0; key = ""
        }
        format == "one-line" {
            line = $0
            if (line ~ /^[ \t]*(#|$)/) next
            opts = ""
            if (match(line, /\[[^]]*\]/)) {
                opts = substr(line, RSTART + 1, RLENGTH - 2)
                line = substr(line, 1, RSTART - 1) " " substr(line, RSTART + RLENGTH)
            }
            n = split(line, f)
            if (n < 4) next
            components = ""
            for (i = 4; i <= n; i++) components = components " " f[i]
            signed = ""
            m = split(opts, o)
            for (i = 1; i <= m; i++) if (tolower(o[i]) ~ /^signed-by=/) signed = substr(o[i], 11)
            entry(f[1], f[2], f[3], components, signed, "")
            next
        }
        # deb822: stanzas end at a blank line; "#" lines are comments; a line that
        # starts with a blank continues the field before it.
        /^#/ { next }
        /^[ \t\r]*$/ { flush(); next }
        /^[ \t]/ {
            if (key != "") { val[key] = val[key] " " trim($0); rest[key] = rest[key] "\n" $0 }
            next
        }
        {
            i = index($0, ":")
            if (i == 0) next
            key = tolower(trim(substr($0, 1, i - 1)))
            val[key] = substr($0, i + 1); first[key] = substr($0, i + 1); rest[key] = ""
            n_fields++
        }
        END { flush() }
    ' "$file"
}

has_backports() {
    local f
    while IFS= read -r f; do
        [ -n "$(entries has "$BACKPORTS" "$f")" ] && return 0
    done < <(source_files)
    return 1
}

# The stanzas for $BACKPORTS, each distinct one once.
backports_stanzas() {
    local f
    while IFS= read -r f; do
        entries stanzas "$MAIN_SUITE" "$f"
    done < <(source_files) | awk 'BEGIN { RS = ""; ORS = "\n\n" } !seen[$0]++'
}

add_backports() {
    local stanzas
    stanzas=$(backports_stanzas)
    if [ -z "$stanzas" ]; then
        echo "net-peers: no enabled 'deb' source for Debian's $MAIN_SUITE suite with component main in" \
            "$APT_ETC/sources.list or $APT_ETC/sources.list.d/*.list, *.sources, so the mirror for" \
            "$BACKPORTS is unknown; add $BACKPORTS to apt's sources by hand and run this again" >&2
        return 1
    fi
    local out="$APT_ETC/sources.list.d/$BACKPORTS.sources"
    if [ "$DRY_RUN" = 1 ]; then
        printf '# would write %s:\n%s\n' "$out" "$stanzas"
        return 0
    fi
    printf '%s\n' "$stanzas" >"$out"
    echo "net-peers: added $out" >&2
}

if [ "$DRY_RUN" = 1 ]; then
    if has_backports; then
        echo "# $BACKPORTS is already in apt's sources; nothing would be written"
    else
        add_backports
    fi
    exit 0
fi

if ! suricata -V 2>/dev/null | grep -q 'version 7\.'; then
    has_backports || add_backports
    apt-get update -qq
    apt-get install -y -qq -t "$BACKPORTS" suricata >/dev/null
fi
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
suricata -V
