import ArgumentParser
import DiagSupport

extension XDMADiag {
    /// `xdma-diag perf`.
    struct Perf: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure throughput over a sweep of transfer sizes (4K to 64M doubling by default).",
            discussion: """
                Each size gets two untimed warm-up transfers, then --iterations timed ones per direction (default: \
                enough to move 256 MiB, at least 8 and at most 1024). Memory-mapped engines are measured one direction \
                at a time at card address --address; stream engines send and receive at once through the loopback. \
                --plot FILE writes an SVG line chart (MB/s over log2 size, one line per direction).
                """)
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Engine channel 0-3.") var channel = 0
        @Option(help: ArgumentHelp("Smallest transfer (K/M/G).", valueName: "size")) var min = "4K"
        @Option(help: ArgumentHelp("Largest transfer (K/M/G).", valueName: "size")) var max = "64M"
        @Option(help: ArgumentHelp("Timed transfers per size and direction (default: automatic).", valueName: "n")) var iterations: Int?
        @Option(help: "Directions: h2c, c2h or both.") var direction: PerfDirections = .both
        @Option(name: [.customShort("a"), .customLong("address")], help: ArgumentHelp("Card address (memory-mapped engines).", valueName: "addr"))
        var address: String?
        @Option(help: ArgumentHelp("Write an SVG chart of the sweep to this file.", valueName: "file")) var plot: String?
        @Argument(help: "Device address or selector (or use --device).") var name: String?

        func run() throws {
            guard (0...3).contains(channel) else { throw XDMADiagError.invalidInput("--channel must be 0-3 (got \(channel))") }
            var sweep = PerfSweep()
            sweep.minimum = try TransferLimits.size(min)
            sweep.maximum = try TransferLimits.size(max)
            guard sweep.minimum <= sweep.maximum else {
                throw XDMADiagError.invalidInput("--min (\(min)) must not be larger than --max (\(max))")
            }
            if let n = iterations {
                guard (1...100_000).contains(n) else { throw XDMADiagError.invalidInput("--iterations must be 1-100000 (got \(n))") }
            }
            sweep.iterations = iterations
            sweep.channel = channel
            sweep.directions = direction
            sweep.cardAddress = try address.map(TransferLimits.cardAddress) ?? 0
            sweep.addressGiven = address != nil
            if let path = plot { try Files.prepareOutput(path) }
            let progress = Progress(forced: output.progress)
            let json = output.json
            let report = try XDMAConnection.with(connection, positional: name) { c in
                var headerShown = false
                return try sweep.run(on: c, progress: progress) { point, report in
                    guard !json else { return }
                    progress.finish()
                    if !headerShown {
                        print(report.title)
                        print(PerfReport.header)
                        headerShown = true
                    }
                    print(PerfReport.row(point))
                }
            }
            if json { try DiagOutput.json(report) }
            if let path = plot {
                try Files.write(report.svg(), to: path)
                if !json { print("plot written to \(path)") }
            }
        }
    }
}
