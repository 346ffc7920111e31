#!/usr/bin/env bash
# Runs every Busmaster test: the Swift unit and model tests, then the real-kernel
# integration test (QEMU + VFIO with QEMU's edu device).
#   BUSMASTER_SKIP_QEMU=1   skip the QEMU test (it says so loudly; CI never sets it)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== swift test =="
swift build --build-tests
swift test --skip-build --parallel 2>&1 | tee /tmp/busmaster-swift-test.log | grep -vE '^(◇|↳|Test Case .* started)' || {
    echo "swift test FAILED (full log: /tmp/busmaster-swift-test.log)"
    exit 1
}

if [ "${BUSMASTER_SKIP_QEMU:-0}" = 1 ]; then
    echo "!!! BUSMASTER_SKIP_QEMU=1: the real-kernel QEMU/VFIO integration test was NOT run !!!"
    exit 0
fi
echo "== real-kernel integration test (QEMU + VFIO + edu) =="
Tests/Integration/qemu-edu.sh
