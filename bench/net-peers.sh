#!/usr/bin/env bash
# Installs what bench/net.sh and bench/net-compare.sh compare against: Suricata 7 from
# Debian's bookworm-backports suite (the suite is added to apt's sources when missing)
# and hyperfine. Needs root.
set -euo pipefail
if ! suricata -V 2>/dev/null | grep -q 'version 7\.'; then
    if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        cat >/etc/apt/sources.list.d/bookworm-backports.sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    fi
    apt-get update -qq
    apt-get install -y -qq -t bookworm-backports suricata >/dev/null
fi
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
suricata -V
