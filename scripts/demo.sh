#!/usr/bin/env bash
# Runs the Busmaster demo on the built-in simulated board: the edu sample driver's self
# test, pci-diag listing the board and poking the edu's registers, and xdma-diag moving data
# through a simulated Xilinx XDMA card.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== building (release) =="
swift build -c release --product edu-driver >/dev/null
swift build -c release --product pci-diag >/dev/null
swift build -c release --product xdma-diag >/dev/null
bin=$(swift build -c release --show-bin-path)

echo; echo "== edu sample driver on the simulated edu =="
"$bin/edu-driver" --simulate --trace /tmp/busmaster-demo-edu.trace
echo; echo "== pci-diag on the simulated board =="
"$bin/pci-diag" --simulate list
"$bin/pci-diag" --simulate show 00:01.0
"$bin/pci-diag" --simulate read 00:01.0 0 0x0
"$bin/pci-diag" --simulate write 00:01.0 0 0x4 0x12345678 --read-back
echo; echo "== xdma-diag on a simulated Xilinx XDMA card =="
"$bin/xdma-diag" --simulate info | head -n 12
"$bin/xdma-diag" --simulate loopback --size 16M
echo; echo "== the edu driver's register trace (first lines of /tmp/busmaster-demo-edu.trace) =="
head -n 20 /tmp/busmaster-demo-edu.trace
echo; echo "== replaying that trace against the same driver =="
"$bin/edu-driver" --replay /tmp/busmaster-demo-edu.trace | tail -n 1
