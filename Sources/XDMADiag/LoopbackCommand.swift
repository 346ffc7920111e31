import ArgumentParser
import DiagSupport

extension XDMADiag {
    /// `xdma-diag loopback`.
    struct Loopback: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send data to the card and back, compare it, and print the throughput of each direction.",
            discussion: """
                Memory-mapped engines: H2C writes --size bytes to card memory at --address, C2H reads them back. \
                Stream engines: C2H receives while H2C sends through the design's loopback (H2C n -> C2H n); \
                sizes must be multiples of 64 bytes. Any difference fails the command.
                """)
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Engine channel 0-3 (both directions).") var channel = 0
        @Option(name: [.customShort("s"), .customLong("size")], help: ArgumentHelp("Bytes per round trip (K/M/G).", valueName: "size"))
        var size = "1M"
        @Option(name: [.customShort("c"), .customLong("count")], help: "Round trips.") var count = 1
        @Option(name: [.customShort("a"), .customLong("address")], help: ArgumentHelp("Card address (memory-mapped engines).", valueName: "addr"))
        var address: String?
        @Option(help: ArgumentHelp("Data pattern: random (default), increment, zero, ones or a 32-bit value.", valueName: "pattern"))
        var pattern = "random"
        @Option(help: "Seed of the random pattern.") var seed: UInt64 = 1
        @Argument(help: "Device address or selector (or use --device).") var name: String?

        func run() throws {
            guard (1...100_000).contains(count) else { throw XDMADiagError.invalidInput("--count must be 1-100000 (got \(count))") }
            guard (0...3).contains(channel) else { throw XDMADiagError.invalidInput("--channel must be 0-3 (got \(channel))") }
            var test = LoopbackTest(size: try TransferLimits.size(size))
            test.channel = channel
            test.count = count
            test.cardAddress = try address.map(TransferLimits.cardAddress) ?? 0
            test.addressGiven = address != nil
            test.pattern = try DataPattern(parsing: pattern, seed: seed)
            try test.pattern.check(size: test.size)
            let progress = Progress(forced: output.progress)
            let report = try XDMAConnection.with(connection, positional: name) { try test.run(on: $0, progress: progress) }
            if output.json { try DiagOutput.json(report) } else { print(report.text) }
        }
    }
}
