import ArgumentParser
import DiagSupport

extension XDMADiag {
    /// `xdma-diag info`.
    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the card: BAR roles, engines (MM/ST), IP version, alignments, datapath, MPS/MRRS, MSI/MSI-X, link.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Device address or selector (or use --device).") var name: String?

        func run() throws {
            let report = try XDMAConnection.with(connection, positional: name) { try DeviceReport.gather($0) }
            if output.json { try DiagOutput.json(report) } else { print(report.text) }
        }
    }
}
