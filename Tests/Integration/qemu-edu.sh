#!/usr/bin/env bash
# Tests/Integration/qemu-edu.sh: real-kernel integration test for Busmaster.
#
# What it does
#   1. Checks the host tools (qemu-system-x86, busybox-static, cpio, kmod, xz-utils) and
#      installs missing ones with apt-get when running as root.
#   2. Fetches the kernel package that `linux-image-amd64` currently depends on, WITHOUT
#      installing it (apt-get download + dpkg-deb -x), and caches an uncompressed vmlinux
#      (PVH boot, skips the slow in-guest decompressor) plus the VFIO/UIO modules, in load
#      order from the modules.dep that depmod generates (the package does not ship one).
#   3. Builds the guest driver: `swift build -c release --product edu-driver
#      -Xswiftc -static-executable` (release on purpose: volatile-access bugs show only at -O),
#      and pci-diag for the trace comparison on the host.
#   4. Runs edu-driver on the simulated edu on the host (`--simulate`, MSI and INTx).
#   5. Builds an initramfs (busybox, modules, edu-driver, Tests/Integration/guest-init.sh
#      as /init) and boots it under QEMU TCG (q35, intel-iommu, two `edu` devices). The guest
#      binds the first edu to vfio-pci, the second to uio_pci_generic, runs edu-driver three
#      times (VFIO+MSI, VFIO+INTx, UIO+INTx) and prints the register traces on the serial
#      console between TRACE-BEGIN/TRACE-END markers.
#   6. Extracts the traces from the serial log, checks their line count and md5, and compares
#      each with the simulated trace (`pci-diag trace diff SIM REAL`; the UIO run is compared
#      with the simulated INTx trace). Only poll repeat counts may differ.
#   Never uses KVM (the host KVM here cannot run this guest); always `-accel tcg`.
#   Runs are serialised with a lock in the cache directory (one QEMU at a time).
#
# Usage: Tests/Integration/qemu-edu.sh [--help]     (from anywhere; it cd's to the repo root)
#
# Environment
#   CI=true                       a missing prerequisite is a failure (exit 2), not a skip
#   BUSMASTER_QEMU_TIMEOUT        wall-clock limit for QEMU in seconds (default 300)
#   BUSMASTER_QEMU_STEP_TIMEOUT   limit per edu-driver run inside the guest (default 90)
#   BUSMASTER_QEMU_MEMORY         guest RAM in MiB (default 256: all RAM then lies below
#                                 edu's default 28-bit DMA mask, which the UIO path needs)
#   BUSMASTER_QEMU_CACHE          kernel cache root
#                                 (default ${XDG_CACHE_HOME:-$HOME/.cache}/busmaster-qemu)
#   BUSMASTER_QEMU_WORKDIR        per-run files: serial log, traces, initramfs
#                                 (default <repo>/.build-qemu-edu; cleared at each run, so
#                                 an existing non-empty directory must be one of ours)
#   BUSMASTER_QEMU_KERNEL_PKG     kernel package to use instead of linux-image-amd64's dependency
#   BUSMASTER_QEMU_SCRATCH        SwiftPM scratch path of the static guest build (default .build-static)
#   BUSMASTER_QEMU_HOST_SCRATCH   SwiftPM scratch path of the host pci-diag build (default .build)
#   BUSMASTER_QEMU_EDU_DRIVER     use this prebuilt STATIC edu-driver instead of building one
#                                 (a `#!/bin/busybox sh` script also works: pipeline debugging)
#   BUSMASTER_QEMU_PCI_DIAG       use this prebuilt pci-diag instead of building one
#   SWIFT                         swift executable (default: swift)
#
# Exit status
#   0   all steps passed
#   1   the test ran and failed (guest failure, trace mismatch, timeout, panic, ...)
#   2   the test could not be set up (build failed, kernel fetch failed, bad environment,
#       or a missing prerequisite while CI=true)
#   77  skipped: prerequisites missing and not installable here (not root / no package
#       archive) and CI is not true; a banner says what to run

set -uo pipefail
# depmod lives in /usr/sbin, which a non-root PATH may lack.
PATH="$PATH:/usr/sbin:/sbin"

readonly EXIT_PASS=0 EXIT_FAIL=1 EXIT_SETUP=2 EXIT_SKIP=77
readonly CACHE_FORMAT="busmaster-qemu-cache-v1"
readonly PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils)
# Modules the guest needs; dependencies come from the kernel's modules.dep.
# vfio_iommu_type1 is not a dependency of vfio-pci, but without it the type1 IOMMU is absent.
readonly ROOT_MODULES=(vfio_iommu_type1 vfio_pci uio_pci_generic)
readonly EDU_VENDOR_DEVICE="1234:11e8"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)

TIMEOUT=${BUSMASTER_QEMU_TIMEOUT:-300}
STEP_TIMEOUT=${BUSMASTER_QEMU_STEP_TIMEOUT:-90}
MEMORY=${BUSMASTER_QEMU_MEMORY:-256}
CACHE_ROOT=${BUSMASTER_QEMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/busmaster-qemu}
WORK=${BUSMASTER_QEMU_WORKDIR:-$REPO/.build-qemu-edu}
GUEST_SCRATCH=${BUSMASTER_QEMU_SCRATCH:-.build-static}
HOST_SCRATCH=${BUSMASTER_QEMU_HOST_SCRATCH:-.build}
SWIFT=${SWIFT:-swift}
IN_CI=false
case "${CI:-}" in true|TRUE|True|1|yes) IN_CI=true ;; esac

STEP_NAMES=()
STEP_STATES=()
FAILURES=0

say() { printf '[qemu-edu] %s\n' "$*"; }
# step <PASS|FAIL|SKIP> <description>: prints and records one step result.
step() {
    printf '[qemu-edu] %-4s %s\n' "$1" "$2"
    STEP_NAMES+=("$2"); STEP_STATES+=("$1")
    [ "$1" = FAIL ] && FAILURES=$((FAILURES + 1))
    return 0
}
# landmark <description>: fails a step and remembers the first missing guest landmark.
DIAGNOSIS=""
landmark() { step FAIL "$1"; [ -n "$DIAGNOSIS" ] || DIAGNOSIS=$1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

banner() {
    local line="################################################################################"
    printf '\n%s\n' "$line"
    local l; for l in "$@"; do printf '##  %s\n' "$l"; done
    printf '%s\n\n' "$line"
}

# setup_failure <message...>: the test could not be set up.
setup_failure() {
    banner "QEMU-EDU: CANNOT RUN" "$@"
    say "RESULT: ERROR (setup)"
    exit $EXIT_SETUP
}

# unavailable <message...>: a prerequisite cannot be provided here; skip, or fail in CI.
unavailable() {
    if $IN_CI; then
        banner "QEMU-EDU: PREREQUISITE MISSING IN CI -> FAILURE" "$@"
        say "RESULT: ERROR (missing prerequisite, CI=true)"
        exit $EXIT_SETUP
    fi
    banner "QEMU-EDU: TEST SKIPPED -- THE REAL-KERNEL INTEGRATION TEST DID NOT RUN" "$@" \
        "(exit status $EXIT_SKIP; with CI=true this is a failure)"
    say "RESULT: SKIPPED"
    exit $EXIT_SKIP
}

usage() { sed -n '2,/^$/{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

case "${1:-}" in
    -h|--help) usage; exit 0 ;;
    "") ;;
    *) echo "qemu-edu.sh: unknown argument '$1' (only --help is accepted)" >&2; exit $EXIT_SETUP ;;
esac
for v in TIMEOUT STEP_TIMEOUT MEMORY; do
    is_uint "${!v}" || setup_failure "BUSMASTER_QEMU_$v must be a whole number, got '${!v}'"
done
[ "$MEMORY" -ge 160 ] || setup_failure "BUSMASTER_QEMU_MEMORY must be at least 160 (MiB), got $MEMORY"

cd "$REPO" || setup_failure "cannot cd to the repository root $REPO"
T_START=$(now)

# ---------------------------------------------------------------------------------------
# 1. Prerequisites
# ---------------------------------------------------------------------------------------
package_installed() {
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

check_prerequisites() {
    command -v dpkg-query >/dev/null && command -v apt-get >/dev/null \
        || unavailable "This test needs a Debian/Ubuntu host (dpkg-query and apt-get not found)."
    local missing=() p
    for p in "${PACKAGES[@]}"; do package_installed "$p" || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        local cmd="apt-get install -y --no-install-recommends ${missing[*]}"
        if [ "$(id -u)" != 0 ]; then
            unavailable "Missing packages: ${missing[*]}" \
                "Not root, so they cannot be installed automatically. Run as root:" \
                "    apt-get update && $cmd"
        fi
        say "installing: ${missing[*]}"
        local log="$CACHE_ROOT/apt-install.log" all_known=true
        mkdir -p "$CACHE_ROOT"
        for p in "${missing[@]}"; do
            apt-cache show "$p" >/dev/null 2>&1 || all_known=false
        done
        if ! $all_known; then
            say "apt-get update (package lists lack some of: ${missing[*]})"
            apt-get update >"$log" 2>&1 || { tail -n 20 "$log"; unavailable "apt-get update failed (no package archive?); log: $log" "Then run: $cmd"; }
        fi
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                "${missing[@]}" >>"$log" 2>&1; then
            tail -n 20 "$log"
            unavailable "apt-get install failed (no package archive?); log: $log" "Command: $cmd"
        fi
    fi
    local tool
    for tool in qemu-system-x86_64 cpio xz depmod timeout flock md5sum awk sed od; do
        command -v "$tool" >/dev/null || unavailable "Tool '$tool' not found in PATH."
    done
    BUSYBOX=$(dpkg -L busybox-static 2>/dev/null | grep -E '/bin/busybox$' | head -n 1)
    [ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ] || unavailable "busybox-static is installed but its binary was not found."
    command -v "$SWIFT" >/dev/null \
        || { [ -n "${BUSMASTER_QEMU_EDU_DRIVER:-}" ] && [ -n "${BUSMASTER_QEMU_PCI_DIAG:-}" ]; } \
        || setup_failure "swift not found (set SWIFT or PATH; the toolchain lives in /opt/swift/usr/bin here)"
    step PASS "prerequisites ($(qemu-system-x86_64 --version | head -n 1))"
}

check_prerequisites
mkdir -p "$CACHE_ROOT" || setup_failure "cannot create the cache directory $CACHE_ROOT"

# One run at a time: QEMU TCG needs a whole core, and the cache is shared.
exec 9>"$CACHE_ROOT/.lock" || setup_failure "cannot open the lock file $CACHE_ROOT/.lock"
if ! flock -n 9; then
    say "another qemu-edu run holds $CACHE_ROOT/.lock; waiting (up to 15 min)"
    flock -w 900 9 || setup_failure "timed out waiting for $CACHE_ROOT/.lock"
fi

readonly WORK_MARK=".qemu-edu-workdir"
if [ -d "$WORK" ] && [ -n "$(ls -A "$WORK" 2>/dev/null)" ] && [ ! -e "$WORK/$WORK_MARK" ]; then
    setup_failure "BUSMASTER_QEMU_WORKDIR=$WORK exists, is not empty and was not made by this script;" \
        "refusing to clear it. Point BUSMASTER_QEMU_WORKDIR at a new directory."
fi
rm -rf "$WORK" && mkdir -p "$WORK" && touch "$WORK/$WORK_MARK" \
    || setup_failure "cannot create the work directory $WORK"
LOG="$WORK/serial.log"

# ---------------------------------------------------------------------------------------
# 2. Kernel: vmlinux + modules, cached per package
# ---------------------------------------------------------------------------------------
module_name() { local b=${1##*/}; b=${b%%.ko*}; printf '%s' "${b//-/_}"; }

# extract_vmlinux <vmlinuz> <out>: decodes the first XZ stream that yields an ELF.
extract_vmlinux() {
    local off
    for off in $(LC_ALL=C grep -abo $'\xfd7zXZ' "$1" | cut -d: -f1 | head -n 8); do
        # tail may die of SIGPIPE once xz stops after the first stream: judge xz alone.
        tail -c +$((off + 1)) "$1" | xz -dc --single-stream >"$2" 2>/dev/null
        if [ "${PIPESTATUS[1]}" -eq 0 ] \
                && [ "$(head -c 4 "$2" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
            return 0
        fi
    done
    rm -f "$2"
    return 1
}

# prepare_kernel_cache <pkg> <dir>: fills <dir> with vmlinux (or vmlinuz), mods/, config.
prepare_kernel_cache() {
    local pkg=$1 dir=$2 tmp="$2.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp/x" || return 1
    say "downloading $pkg (apt-get download, not installed)"
    if ! (cd "$tmp" && apt-get download "$pkg") >"$tmp/download.log" 2>&1; then
        tail -n 20 "$tmp/download.log"
        rm -rf "$tmp"
        unavailable "apt-get download $pkg failed (no package archive or network?)." \
            "As root, 'apt-get update' may help."
    fi
    dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x" || { rm -rf "$tmp"; return 1; }
    local kver=${pkg#linux-image-} kernel
    kernel=$(ls "$tmp"/x/boot/vmlinuz-* 2>/dev/null | head -n 1)
    [ -n "$kernel" ] || { say "no /boot/vmlinuz-* in $pkg"; rm -rf "$tmp"; return 1; }
    local moddir
    moddir=$(ls -d "$tmp"/x/lib/modules/* "$tmp"/x/usr/lib/modules/* 2>/dev/null | head -n 1)
    [ -n "$moddir" ] && [ -d "$moddir/kernel" ] \
        || { say "no lib/modules/<version>/kernel in $pkg"; rm -rf "$tmp"; return 1; }
    kver=${moddir##*/}
    # The package does not ship modules.dep (its postinst runs depmod): generate it.
    if [ ! -f "$moddir/modules.dep" ]; then
        depmod -b "${moddir%/lib/modules/*}" "$kver" >"$tmp/depmod.log" 2>&1 && [ -f "$moddir/modules.dep" ] \
            || { cat "$tmp/depmod.log"; say "depmod failed for $pkg"; rm -rf "$tmp"; return 1; }
    fi
    mkdir -p "$tmp/out/mods"
    cp "$tmp"/x/boot/config-* "$tmp/out/config" 2>/dev/null
    echo "$kver" >"$tmp/out/kver"
    if extract_vmlinux "$kernel" "$tmp/out/vmlinux"; then
        say "extracted vmlinux ($(( $(stat -c %s "$tmp/out/vmlinux") / 1048576 )) MB) for a PVH boot"
    else
        say "WARNING: no ELF vmlinux inside $(basename "$kernel"); booting the compressed kernel (slower)"
        cp "$kernel" "$tmp/out/vmlinuz"
    fi

    # Resolve the module load order from modules.dep (dependencies first).
    declare -A path_of=() deps_of=() seen=()
    local line p n order=()
    while IFS= read -r line; do
        p=${line%%:*}; n=$(module_name "$p")
        path_of[$n]=$p; deps_of[$n]=${line#*:}
    done <"$moddir/modules.dep"
    resolve() {
        local m=$1 d
        [ -n "${seen[$m]:-}" ] && return 0
        seen[$m]=1
        if [ -z "${path_of[$m]:-}" ]; then
            if grep -qE "/${m//_/[-_]}\.ko" "$moddir/modules.builtin" 2>/dev/null; then
                say "module $m is built into $pkg; not loading it"
                return 0
            fi
            say "module $m is neither in modules.dep nor built in ($pkg)"
            return 1
        fi
        for d in ${deps_of[$m]}; do resolve "$(module_name "$d")" || return 1; done
        order+=("$m")
    }
    for n in "${ROOT_MODULES[@]}"; do resolve "$n" || { rm -rf "$tmp"; return 1; }; done
    local i=0 src dst
    for n in "${order[@]}"; do
        i=$((i + 1))
        src="$moddir/${path_of[$n]}"
        dst=$(printf '%s/out/mods/%02d-%s.ko' "$tmp" "$i" "$n")
        case "$src" in
            *.ko) cp "$src" "$dst" ;;
            *.ko.xz) xz -dc "$src" >"$dst" ;;
            *.ko.gz) gzip -dc "$src" >"$dst" ;;
            *.ko.zst) zstd -qdc "$src" >"$dst" ;;
            *) false ;;
        esac || { say "cannot unpack module $src"; rm -rf "$tmp"; return 1; }
    done
    echo "$CACHE_FORMAT" >"$tmp/out/.complete"
    rm -rf "$dir" && mv "$tmp/out" "$dir" && rm -rf "$tmp"
}

T0=$(now)
KPKG=${BUSMASTER_QEMU_KERNEL_PKG:-}
if [ -z "$KPKG" ]; then
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null \
        | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
fi
if [ -z "$KPKG" ]; then
    # Offline fallback: the most recently prepared cache entry.
    for d in "$CACHE_ROOT"/linux-image-*; do   # normally at most one (old ones are pruned)
        [ "$(cat "$d/.complete" 2>/dev/null)" = "$CACHE_FORMAT" ] && KPKG=${d##*/}
    done
    [ -n "$KPKG" ] || unavailable "apt-cache depends linux-image-amd64 named no kernel package," \
        "and nothing is cached in $CACHE_ROOT. As root, 'apt-get update' may help."
    say "WARNING: apt-cache names no kernel; using cached $KPKG"
fi
KDIR="$CACHE_ROOT/$KPKG"
if [ "$(cat "$KDIR/.complete" 2>/dev/null)" = "$CACHE_FORMAT" ]; then
    KSTATE="cached"
else
    prepare_kernel_cache "$KPKG" "$KDIR" || setup_failure "could not prepare kernel $KPKG in $KDIR"
    KSTATE="fetched"
    # The archive moved on to a new kernel: drop the older cached ones (about 70 MB each).
    if [ -z "${BUSMASTER_QEMU_KERNEL_PKG:-}" ]; then
        for old in "$CACHE_ROOT"/linux-image-*; do
            [ -d "$old" ] && [ "$old" != "$KDIR" ] && { say "removing old cached kernel ${old##*/}"; rm -rf "$old"; }
        done
    fi
fi
if [ -f "$KDIR/vmlinux" ]; then KERNEL="$KDIR/vmlinux"; else KERNEL="$KDIR/vmlinuz"; fi
step PASS "kernel $KPKG ($(cat "$KDIR/kver"), $KSTATE, $(basename "$KERNEL"), $(ls "$KDIR/mods" | wc -l) modules, $(elapsed "$T0") s)"

# ---------------------------------------------------------------------------------------
# 3. Builds
# ---------------------------------------------------------------------------------------
T0=$(now)
if [ -n "${BUSMASTER_QEMU_EDU_DRIVER:-}" ]; then
    EDU_DRIVER=$BUSMASTER_QEMU_EDU_DRIVER
    [ -x "$EDU_DRIVER" ] || setup_failure "BUSMASTER_QEMU_EDU_DRIVER=$EDU_DRIVER is not an executable file"
    step PASS "edu-driver: prebuilt $EDU_DRIVER"
else
    GUEST_BUILD=(-c release --product edu-driver -Xswiftc -static-executable --scratch-path "$GUEST_SCRATCH")
    say "building edu-driver: $SWIFT build ${GUEST_BUILD[*]}"
    if ! "$SWIFT" build "${GUEST_BUILD[@]}" >"$WORK/build-edu-driver.log" 2>&1; then
        tail -n 60 "$WORK/build-edu-driver.log"
        step FAIL "build edu-driver (release, static); log: $WORK/build-edu-driver.log"
        setup_failure "the static release build of edu-driver failed; log: $WORK/build-edu-driver.log"
    fi
    EDU_DRIVER="$("$SWIFT" build "${GUEST_BUILD[@]}" --show-bin-path 2>/dev/null)/edu-driver"
    [ -x "$EDU_DRIVER" ] || setup_failure "the build succeeded but $EDU_DRIVER does not exist"
    step PASS "build edu-driver (release, static, $(du -m "$EDU_DRIVER" | cut -f1) MB, $(elapsed "$T0") s)"
fi
# elf_has_interp <file>: true when an x86-64 ELF has a PT_INTERP header (= dynamically linked).
elf_has_interp() {
    local f=$1 phoff phentsize phnum i
    rd() { od -An -t"u$2" -j"$1" -N"$2" "$f" | tr -d ' '; }
    phoff=$(rd 32 8); phentsize=$(rd 54 2); phnum=$(rd 56 2)
    for ((i = 0; i < phnum; i++)); do
        [ "$(rd $((phoff + i * phentsize)) 4)" = 3 ] && return 0
    done
    return 1
}
# A script stand-in (#!) runs under the guest's busybox; an ELF must be static.
if [ "$(head -c 4 "$EDU_DRIVER" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] && elf_has_interp "$EDU_DRIVER"; then
    setup_failure "$EDU_DRIVER is dynamically linked; the guest has no libraries: build with -Xswiftc -static-executable"
fi

T0=$(now)
if [ -n "${BUSMASTER_QEMU_PCI_DIAG:-}" ]; then
    PCI_DIAG=$BUSMASTER_QEMU_PCI_DIAG
    [ -x "$PCI_DIAG" ] || setup_failure "BUSMASTER_QEMU_PCI_DIAG=$PCI_DIAG is not an executable file"
    step PASS "pci-diag: prebuilt $PCI_DIAG"
else
    HOST_BUILD=(--product pci-diag --scratch-path "$HOST_SCRATCH")
    say "building pci-diag: $SWIFT build ${HOST_BUILD[*]}"
    if ! "$SWIFT" build "${HOST_BUILD[@]}" >"$WORK/build-pci-diag.log" 2>&1; then
        tail -n 60 "$WORK/build-pci-diag.log"
        step FAIL "build pci-diag; log: $WORK/build-pci-diag.log"
        setup_failure "the build of pci-diag failed; log: $WORK/build-pci-diag.log"
    fi
    PCI_DIAG="$("$SWIFT" build "${HOST_BUILD[@]}" --show-bin-path 2>/dev/null)/pci-diag"
    [ -x "$PCI_DIAG" ] || setup_failure "the build succeeded but $PCI_DIAG does not exist"
    step PASS "build pci-diag ($(elapsed "$T0") s)"
fi

# ---------------------------------------------------------------------------------------
# 4. Simulated reference traces (same binary, on the host)
# ---------------------------------------------------------------------------------------
for irq in msi intx; do
    T0=$(now)
    timeout -k 5 120 "$EDU_DRIVER" --simulate --interrupt "$irq" --trace "$WORK/sim-$irq.trace" \
        >"$WORK/sim-$irq.log" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || ! grep -q 'EDU-DRIVER: PASS' "$WORK/sim-$irq.log"; then
        tail -n 40 "$WORK/sim-$irq.log"
        why=$(grep -m1 'EDU-DRIVER: FAIL' "$WORK/sim-$irq.log")
        step FAIL "simulated edu, $irq: rc=$rc ${why:-no EDU-DRIVER: PASS line} (log: $WORK/sim-$irq.log)"
    elif [ ! -s "$WORK/sim-$irq.trace" ]; then
        step FAIL "simulated edu, $irq: the driver passed but wrote no trace to $WORK/sim-$irq.trace"
    else
        step PASS "simulated edu, $irq ($(wc -l <"$WORK/sim-$irq.trace") trace lines, $(elapsed "$T0") s)"
    fi
done

# ---------------------------------------------------------------------------------------
# 5. initramfs and QEMU
# ---------------------------------------------------------------------------------------
T0=$(now)
ROOTFS="$WORK/rootfs"
mkdir -p "$ROOTFS"/{bin,mods,dev,proc,sys,tmp} \
    && cp "$BUSYBOX" "$ROOTFS/bin/busybox" \
    && cp "$EDU_DRIVER" "$ROOTFS/bin/edu-driver" \
    && cp "$KDIR"/mods/*.ko "$ROOTFS/mods/" \
    && cp "$SCRIPT_DIR/guest-init.sh" "$ROOTFS/init" \
    && chmod 0755 "$ROOTFS/init" "$ROOTFS/bin/busybox" "$ROOTFS/bin/edu-driver" \
    || setup_failure "could not assemble the initramfs tree in $ROOTFS"
INITRD="$WORK/initrd.cpio"
(cd "$ROOTFS" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R +0:+0) >"$INITRD" \
    || setup_failure "cpio failed while packing $INITRD"
step PASS "initramfs ($(du -m "$INITRD" | cut -f1) MB: busybox, $(ls "$ROOTFS/mods" | wc -l) modules, edu-driver, /init; $(elapsed "$T0") s)"

# shellcheck disable=SC2054  # the commas are QEMU option syntax
QEMU_CMD=(qemu-system-x86_64
    -accel tcg -machine q35 -cpu qemu64 -m "$MEMORY" -smp 1
    -nodefaults -display none -no-reboot
    -chardev "file,id=serial0,path=$LOG" -serial chardev:serial0
    -device intel-iommu,intremap=on,caching-mode=on
    -device edu -device edu
    -kernel "$KERNEL" -initrd "$INITRD"
    -append "console=ttyS0 panic=-1 quiet intel_iommu=on iommu=pt it_step_timeout=$STEP_TIMEOUT")
printf '%q ' timeout -k 10 "$TIMEOUT" "${QEMU_CMD[@]}" >"$WORK/qemu-command.txt"
say "booting $KPKG under QEMU TCG (limit ${TIMEOUT} s; serial log $LOG)"
T0=$(now)
timeout -k 10 "$TIMEOUT" "${QEMU_CMD[@]}" </dev/null >"$WORK/qemu.out" 2>&1
QEMU_RC=$?
QEMU_TIME=$(elapsed "$T0")

# Clean copy of the log: no CRs, no terminal escapes, no other control characters.
CLEAN="$WORK/serial.clean.log"
touch "$LOG"
LC_ALL=C sed -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[()][A-Za-z0-9]//g' \
    -e 's/\x1b[A-Za-z=>]//g' "$LOG" | LC_ALL=C tr -d '\000-\010\013\014\016-\037' >"$CLEAN"

has() { grep -qF -- "$1" "$CLEAN"; }

if [ $QEMU_RC -eq 0 ]; then
    step PASS "QEMU ran and exited ($QEMU_TIME s)"
elif [ $QEMU_RC -eq 124 ] || [ $QEMU_RC -eq 137 ]; then
    landmark "QEMU timeout: killed after $TIMEOUT s (rc=$QEMU_RC; BUSMASTER_QEMU_TIMEOUT raises the limit)"
else
    landmark "QEMU exited with rc=$QEMU_RC after $QEMU_TIME s ($(head -c 300 "$WORK/qemu.out" | tr '\n' ' '))"
fi

# Guest landmarks, in boot order.
if has "Kernel panic"; then
    landmark "guest kernel panic: $(grep -m1 -F 'Kernel panic' "$CLEAN")"
fi
has "Linux version" || has "INIT: started" || landmark "guest: kernel printed nothing (no 'Linux version', no /init output)"
if has "INIT: started"; then
    bad=$(grep -F 'INIT: insmod' "$CLEAN" | grep -F FAILED | sed 's/^.*INIT: //' | tr '\n' ';')
    nmods=$(grep -cF 'INIT: insmod' "$CLEAN")
    if [ -n "$bad" ]; then landmark "guest modules: $bad"
    elif [ "$nmods" -eq 0 ]; then landmark "guest modules: no 'INIT: insmod' lines"
    else step PASS "guest modules: $nmods loaded"; fi
    if ! has "INIT: edu devices found"; then
        landmark "guest: no edu scan line (init died before the PCI scan?)"
    elif has "INIT: FAIL no edu found"; then
        landmark "guest: $(grep -m1 -F 'INIT: edu devices found' "$CLEAN" | sed 's/^.*INIT: //') (need 2 x $EDU_VENDOR_DEVICE)"
    else
        step PASS "guest: $(grep -m1 -F 'INIT: edu devices found' "$CLEAN" | sed 's/^.*INIT: //')"
        if has "INIT: /dev/vfio/"; then step PASS "guest: $(grep -m1 -F 'INIT: /dev/vfio/' "$CLEAN" | sed 's/^.*INIT: //')"
        else landmark "guest: no /dev/vfio/N for the vfio-pci edu $(grep -F 'INIT: FAIL' "$CLEAN" | grep -iE 'vfio|iommu|bind' | sed 's/^.*INIT: FAIL //' | tr '\n' ';')"; fi
        if has "INIT: /dev/uio"; then step PASS "guest: $(grep -m1 -F 'INIT: /dev/uio' "$CLEAN" | sed 's/^.*INIT: //')"
        else landmark "guest: no /dev/uioN for the uio_pci_generic edu $(grep -F 'INIT: FAIL' "$CLEAN" | grep -iE 'uio|bind' | sed 's/^.*INIT: FAIL //' | tr '\n' ';')"; fi
    fi
else
    landmark "guest: /init did not start (no 'INIT: started')"
fi

# extract_trace <name> <out>: the lines between the markers, kernel messages dropped.
extract_trace() {
    awk -v b="TRACE-BEGIN $1" -v e="TRACE-END $1 " '
        function ends_with(s, t) { return length(s) >= length(t) && substr(s, length(s) - length(t) + 1) == t }
        inside && index($0, e) { done = 1; exit }
        inside && $0 !~ /^\[ *[0-9]+\.[0-9]+\] / { print }
        !inside && ends_with($0, b) { inside = 1 }
        END { exit(done ? 0 : 1) }' "$CLEAN" >"$2"
}

# Per guest run: driver result, trace transfer, comparison with the simulation.
for spec in "msi:msi:vfio-pci, MSI" "intx:intx:vfio-pci, INTx" "uio:intx:uio_pci_generic, INTx"; do
    name=${spec%%:*}; rest=${spec#*:}; sim=${rest%%:*}; what=${rest#*:}
    res=$(grep -m1 -E "STEP-RESULT $name (PASS|FAIL)" "$CLEAN" | sed "s/^.*STEP-RESULT $name //")
    if [ -z "$res" ] && ! has "TRACE-BEGIN $name" && [ -n "$DIAGNOSIS" ]; then
        step FAIL "guest run $name ($what): not reached"
        continue
    fi
    case "$res" in
        PASS*) step PASS "guest edu-driver ($what)" ;;
        FAIL*) why=$(awk -v s="--trace /tmp/$name.trace" -v e="STEP-RESULT $name " '
                       index($0, s) { on = 1 } on && index($0, e) { exit }
                       on && index($0, "EDU-DRIVER: FAIL") { sub(/^.*EDU-DRIVER: /, ""); print; exit }' "$CLEAN")
               landmark "guest edu-driver ($what): ${res#FAIL }${why:+: $why}" ;;
        *) landmark "guest edu-driver ($what): did not run (no STEP-RESULT $name)" ;;
    esac
    real="$WORK/real-$name.trace"
    if ! extract_trace "$name" "$real"; then
        if has "TRACE-BEGIN $name"; then landmark "trace $name: TRACE-BEGIN without TRACE-END (output cut off)"
        elif has "INIT: no trace file for $name"; then step FAIL "trace $name: the driver wrote no trace file in the guest"
        else landmark "trace $name: no TRACE-BEGIN $name marker"; fi
        continue
    fi
    want=$(grep -m1 -F "TRACE-END $name " "$CLEAN" | sed -n 's/^.*TRACE-END [a-z]* lines=\([0-9]*\) md5=\([0-9a-f]*\).*$/\1 \2/p')
    got="$(wc -l <"$real" | tr -d ' ') $(md5sum "$real" | cut -d' ' -f1)"
    if [ "$want" != "$got" ]; then
        step FAIL "trace $name: copy from the serial log is damaged (guest: lines/md5 '$want', host: '$got')"
        continue
    fi
    if [ ! -s "$WORK/sim-$sim.trace" ]; then
        step FAIL "trace $name: no simulated $sim trace to compare with"
        continue
    fi
    "$PCI_DIAG" trace diff "$WORK/sim-$sim.trace" "$real" >"$WORK/diff-$name.txt" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        step PASS "trace $name ($what, ${got%% *} lines) == simulated $sim trace"
    else
        sed 's/^/    /' "$WORK/diff-$name.txt" | head -n 60
        if [ $rc -eq 1 ]; then
            step FAIL "trace $name ($what) differs from the simulated $sim trace; diff: $WORK/diff-$name.txt"
        else
            step FAIL "trace $name: pci-diag trace diff failed (rc=$rc); output: $WORK/diff-$name.txt"
        fi
    fi
done

if has "PCI-IT-RESULT: PASS" && ! has "PCI-IT-RESULT: FAIL"; then
    step PASS "guest result: PCI-IT-RESULT: PASS"
elif has "PCI-IT-RESULT: FAIL"; then
    step FAIL "guest result: $(grep -m1 -F 'PCI-IT-RESULT: FAIL' "$CLEAN" | sed 's/^.*PCI-IT-RESULT: //')"
else
    landmark "guest result: no PCI-IT-RESULT marker"
fi
has "reboot: Power down" || [ $QEMU_RC -ne 0 ] || [ -n "$DIAGNOSIS" ] || say "note: no 'reboot: Power down' line, but QEMU exited cleanly"

# ---------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------
TOTAL=$(elapsed "$T_START")
if [ $FAILURES -eq 0 ]; then
    say "RESULT: PASS ($KPKG, QEMU $QEMU_TIME s, total $TOTAL s; files in $WORK)"
    exit $EXIT_PASS
fi

printf '\n===== last 200 lines of the guest serial log (%s) =====\n' "$LOG"
tail -n 200 "$CLEAN"
printf '===== end of guest log =====\n\n'
say "kernel package: $KPKG; QEMU rc=$QEMU_RC after $QEMU_TIME s; command: $WORK/qemu-command.txt"
say "failed steps:"
for i in "${!STEP_NAMES[@]}"; do
    [ "${STEP_STATES[$i]}" = FAIL ] && say "  - ${STEP_NAMES[$i]}"
done
say "guest log: $LOG (cleaned: $CLEAN)"
[ -n "$DIAGNOSIS" ] && say "FIRST MISSING LANDMARK: $DIAGNOSIS"
say "RESULT: FAIL ($FAILURES failed steps, total $TOTAL s)"
exit $EXIT_FAIL
