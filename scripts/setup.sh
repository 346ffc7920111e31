#!/usr/bin/env bash
# Checks (and, as root, installs) what building Busmaster needs: the Swift toolchain,
# pkg-config and libpci-dev. Sourced by demo.sh and test.sh.
set -euo pipefail

need_pkgs=()
command -v pkg-config >/dev/null 2>&1 || need_pkgs+=(pkg-config)
if ! pkg-config --exists libpci 2>/dev/null; then need_pkgs+=(libpci-dev); fi
[ -e /usr/share/misc/pci.ids ] || [ -e /usr/share/hwdata/pci.ids ] || need_pkgs+=(pci.ids)

if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ${need_pkgs[*]} ..."
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
    else
        echo "setup: missing ${need_pkgs[*]}. Install them with:" >&2
        echo "    sudo apt-get install -y ${need_pkgs[*]}" >&2
        exit 1
    fi
fi

if ! command -v swift >/dev/null 2>&1; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    else
        echo "setup: no Swift toolchain found. Install Swift 6.x from swift.org and put it on PATH." >&2
        exit 1
    fi
fi
