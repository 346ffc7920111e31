#!/bin/busybox sh
# /init of the QEMU guest used by Tests/Integration/qemu-edu.sh (copied verbatim into the
# initramfs; not meant to run on the host).
#
# Guest layout (built by qemu-edu.sh):
#   /bin/busybox        busybox-static; applets are linked at start
#   /bin/edu-driver     the edu sample driver, a static release build
#   /mods/NN-<name>.ko  kernel modules, loaded in lexical (= dependency) order
#
# Console protocol (read by qemu-edu.sh; every line starts at column 0):
#   INIT: ...                        progress, e.g. "INIT: insmod vfio.ko ok|FAILED"
#   STEP-RESULT <name> PASS|FAIL ... one line per driver run
#   TRACE-BEGIN <name>               followed by the trace file, verbatim
#   TRACE-END <name> lines=N md5=M   N lines, md5 of the file (lets the host check the copy)
#   PCI-IT-RESULT: PASS | PCI-IT-RESULT: FAIL <what>
# Then the guest powers off. If this script dies, the kernel panics and QEMU exits
# (panic=-1, -no-reboot).

PATH=/bin
export PATH

/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

echo "INIT: started, kernel $(uname -r)"

FAILS=""
fail() {
    # Records one failure; the final result line names all of them.
    echo "INIT: FAIL $*"
    FAILS="$FAILS${FAILS:+; }$*"
}

finish() {
    # Prints the result line and powers off; never returns.
    echo "INIT: dmesg tail follows"
    dmesg | tail -n 60 | sed 's/^/DMESG: /'
    if [ -z "$FAILS" ]; then
        echo "PCI-IT-RESULT: PASS"
    else
        echo "PCI-IT-RESULT: FAIL $FAILS"
    fi
    sync
    poweroff -f
    sleep 5
    exit 1
}

# --- 1. Kernel modules, in dependency order ------------------------------------------
for m in /mods/*.ko; do
    [ -e "$m" ] || { fail "no modules in the initramfs"; break; }
    name=${m##*/}; name=${name#[0-9][0-9]-}
    if insmod "$m"; then
        echo "INIT: insmod $name ok"
    else
        echo "INIT: insmod $name FAILED"
        fail "insmod $name FAILED"
    fi
done

# Keep kernel messages off the console while traces are printed (panics still show);
# the dmesg tail is printed at the end instead.
echo 1 > /proc/sys/kernel/printk

# Hugepages for DMA memory without an IOMMU mapping (the UIO path uses physical pages).
echo 16 > /proc/sys/vm/nr_hugepages 2>/dev/null
echo "INIT: hugepages $(cat /proc/sys/vm/nr_hugepages 2>/dev/null)"

# --- 2. Find the edu devices by ID (never by BDF) -------------------------------------
EDUS=""
for d in /sys/bus/pci/devices/*; do
    [ -r "$d/vendor" ] || continue
    if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
        EDUS="$EDUS ${d##*/}"
    fi
done
set -- $EDUS
echo "INIT: edu devices found: $# ($EDUS )"
if [ $# -lt 2 ]; then
    fail "no edu found (need 2, found $#)"
    finish
fi
BDF_VFIO=$1
BDF_UIO=$2

# bind <bdf> <driver>: driver_override + drivers_probe, then check the link.
bind() {
    dev=/sys/bus/pci/devices/$1
    if [ -e "$dev/driver" ]; then
        echo "$1" > "$dev/driver/unbind"
    fi
    echo "$2" > "$dev/driver_override"
    echo "$1" > /sys/bus/pci/drivers_probe
    drv=$(readlink "$dev/driver" 2>/dev/null)
    if [ "${drv##*/}" = "$2" ]; then
        echo "INIT: bound $1 to $2"
        return 0
    fi
    fail "could not bind $1 to $2 (driver: ${drv:-none})"
    return 1
}

# wait_for <path> <seconds>: devtmpfs creates nodes asynchronously to the write.
wait_for() {
    i=0
    while [ ! -e "$1" ] && [ $i -lt $(( $2 * 10 )) ]; do usleep 100000; i=$((i + 1)); done
    [ -e "$1" ]
}

VFIO_OK=0
if bind "$BDF_VFIO" vfio-pci; then
    grp=$(readlink "/sys/bus/pci/devices/$BDF_VFIO/iommu_group" 2>/dev/null)
    grp=${grp##*/}
    if [ -z "$grp" ]; then
        fail "no iommu_group for $BDF_VFIO (IOMMU off?)"
    elif wait_for "/dev/vfio/$grp" 5; then
        echo "INIT: /dev/vfio/$grp present (group of $BDF_VFIO)"
        VFIO_OK=1
    else
        fail "no /dev/vfio/$grp for $BDF_VFIO"
    fi
fi

UIO_OK=0
if bind "$BDF_UIO" uio_pci_generic; then
    u=$(ls "/sys/bus/pci/devices/$BDF_UIO/uio" 2>/dev/null | head -n 1)
    if [ -z "$u" ]; then
        fail "no uio node under $BDF_UIO"
    elif wait_for "/dev/$u" 5; then
        echo "INIT: /dev/$u present (for $BDF_UIO)"
        UIO_OK=1
    else
        fail "no /dev/$u for $BDF_UIO"
    fi
fi

# --- 3. Driver runs --------------------------------------------------------------------
# it_step_timeout comes from the kernel command line (unknown name=value pairs become
# environment variables of init).
STEP_TIMEOUT=${it_step_timeout:-90}
echo "INIT: limit per edu-driver run ${STEP_TIMEOUT}s"

# run_step <name> <bdf> <interrupt>: one edu-driver run, then its trace between markers.
run_step() {
    name=$1; bdf=$2; irq=$3; trace=/tmp/$name.trace
    echo "INIT: run edu-driver $bdf --interrupt $irq --trace $trace"
    timeout -s KILL "$STEP_TIMEOUT" /bin/edu-driver "$bdf" --interrupt "$irq" --trace "$trace"
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "STEP-RESULT $name PASS"
    else
        [ $rc -eq 137 ] && rc="$rc (killed after ${STEP_TIMEOUT}s)"
        echo "STEP-RESULT $name FAIL rc=$rc"
        fail "edu-driver $name rc=$rc"
    fi
    if [ -f "$trace" ]; then
        lines=$(wc -l < "$trace")
        sum=$(md5sum "$trace"); sum=${sum%% *}
        echo "TRACE-BEGIN $name"
        cat "$trace"
        echo "TRACE-END $name lines=$lines md5=$sum"
    else
        echo "INIT: no trace file for $name"
        fail "no trace $name"
    fi
}

if [ $VFIO_OK = 1 ]; then
    run_step msi "$BDF_VFIO" msi
    run_step intx "$BDF_VFIO" intx
fi
if [ $UIO_OK = 1 ]; then
    run_step uio "$BDF_UIO" intx
fi

finish
