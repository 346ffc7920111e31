import ArgumentParser
import Busmaster
import DiagSupport

/// `pci-diag`: a generic PCI diagnostics tool (like lspci plus WinDriver's pci_diag).
@main
struct PCIDiag: ParsableCommand {
    static func main() {
        main(GlobalOptions.hoist(Array(CommandLine.arguments.dropFirst())))
    }

    static let configuration = CommandConfiguration(
        commandName: "pci-diag",
        abstract: "Inspect and poke PCI devices: list, show, config space, capabilities, BAR registers, traces.",
        discussion: """
            Devices are named by address (0000:01:00.0 or 01:00.0), by an lspci -s slot selector
            (01:*.1) or by an lspci -d ID selector (10ee:903f, ::0780).
            --simulate uses the built-in simulated board (QEMU's edu at 00:01.0);
            --trace FILE records the session's register accesses; --replay FILE runs against a trace;
            --dump FILE reads devices from an 'lspci -xxxx' dump.
            """,
        subcommands: [
            List.self, Show.self, Config.self, Caps.self, Read.self, Write.self, Dump.self, TraceTool.self,
            Interactive.self, DriverStatus.self, Bind.self, Restore.self,
        ])
}
