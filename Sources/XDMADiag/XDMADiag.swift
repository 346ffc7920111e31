import ArgumentParser

/// `xdma-diag`: diagnostics for AMD/Xilinx XDMA ("DMA/Bridge Subsystem for PCI Express")
/// cards — the AMD `dma_ip_drivers` tools and Jungo's `xdma_diag` in one program.
@main
struct XDMADiag: ParsableCommand {
    static func main() {
        main(ArgumentHoisting.hoist(Array(CommandLine.arguments.dropFirst())))
    }

    static let configuration = CommandConfiguration(
        commandName: "xdma-diag",
        abstract: "Inspect and exercise XDMA cards: info, registers, DMA to/from the card, loopback, performance, user interrupts.",
        discussion: """
            The device is named with --device (or as the argument of info, to-device, from-device, loopback, \
            perf and menu): a PCI address (0000:01:00.0 or 01:00.0), an lspci -s slot selector or an lspci -d \
            ID selector (10ee:903f). Without one, the only device with vendor 10ee (Xilinx) or 1d0f (AWS) is used.

            --simulate uses a simulated XDMA card (00:01.0, 10ee:903f, memory-mapped H2C/C2H channels 0-1, \
            256 MiB of card memory) next to a QEMU edu device (00:02.0); --simulate-stream gives the card \
            AXI4-Stream engines looped back H2C n -> C2H n instead. --trace FILE records the session's \
            register accesses, --replay FILE runs against such a recording.

            Throughput is printed as AMD's tools print it: bytes * 1000 / nanoseconds = MB/s (10^6 bytes/s), \
            timed around each transfer call.
            """,
        subcommands: [
            Info.self, Reg.self, ToDevice.self, FromDevice.self, Loopback.self, Perf.self, IRQ.self, Interactive.self,
        ])
}
