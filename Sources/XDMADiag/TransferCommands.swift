import ArgumentParser
import Busmaster
import DiagSupport
import XilinxXDMA

/// Options `to-device` and `from-device` share, named after AMD's `dma_to_device` /
/// `dma_from_device` (`-a`, `-s`, `-o`, `-c`).
struct TransferGeometry: ParsableArguments {
    @Option(help: "Engine channel 0-3.")
    var channel = 0

    @Option(name: [.customShort("a"), .customLong("address")], help: ArgumentHelp("Card address (memory-mapped engines).", valueName: "addr"))
    var address: String?

    @Option(name: [.customShort("s"), .customLong("size")], help: ArgumentHelp("Bytes per transfer (K/M/G suffixes).", valueName: "size"))
    var size: String?

    @Option(name: [.customShort("c"), .customLong("count")], help: "Number of transfers.")
    var count = 1

    @Option(name: [.customShort("o"), .customLong("offset")], help: ArgumentHelp("Host buffer offset within its first page (0-4095).", valueName: "offset"))
    var offset = "0"

    @Option(help: ArgumentHelp("Data pattern: increment, zero, ones, random, or a 32-bit value (0xdeadbeef).", valueName: "pattern"))
    var pattern: String?

    @Option(help: "Seed of the random pattern.")
    var seed: UInt64 = 1

    /// AMD's default size (`-s`, 32 bytes).
    static let defaultSize = 32

    /// Checks what can be checked without a device.
    func validated(size explicit: Int?) throws -> (size: Int, address: UInt64, offset: Int) {
        guard (1...1_000_000).contains(count) else { throw XDMADiagError.invalidInput("--count must be 1-1000000 (got \(count))") }
        guard (0..<XDMARegisters.maxChannels).contains(channel) else {
            throw XDMADiagError.invalidInput("--channel must be 0-\(XDMARegisters.maxChannels - 1) (got \(channel))")
        }
        let n = try explicit ?? size.map(TransferLimits.size) ?? Self.defaultSize
        try TransferLimits.check(size: n)
        return (n, try address.map(TransferLimits.cardAddress) ?? 0, try TransferLimits.hostOffset(offset))
    }

    /// The pattern named by `--pattern` (default `fallback`), checked against `size`.
    func dataPattern(size: Int, default fallback: DataPattern) throws -> DataPattern {
        let p = try pattern.map { try DataPattern(parsing: $0, seed: seed) } ?? fallback
        try p.check(size: size)
        return p
    }
}

extension XDMADiag {
    /// `xdma-diag to-device`: like AMD's `dma_to_device`.
    struct ToDevice: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "to-device",
            abstract: "DMA host memory to the card (H2C), like dma_to_device.",
            discussion: """
                Sends --size bytes (default 32) --count times from a host buffer at --offset in its first page, to \
                card address --address (memory-mapped engines) or as one packet each (stream engines). The data is \
                --file's contents or --pattern (default increment: 32-bit words 0, 1, 2, ...). --verify reads the \
                data back through the same channel's C2H engine and compares; --output writes what was read back \
                to a file.
                """)
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var geometry: TransferGeometry
        @Option(name: [.customShort("f"), .customLong("file")], help: ArgumentHelp("File to send (default size: the whole file).", valueName: "file"))
        var file: String?
        @Flag(help: "Read the data back through the C2H engine of the same channel and compare.")
        var verify = false
        @Option(name: [.customShort("w"), .customLong("output")], help: ArgumentHelp("Read the data back through the same channel's C2H engine into this file.", valueName: "file"))
        var outputFile: String?
        @Argument(help: "Device address or selector (or use --device).")
        var name: String?

        func run() throws {
            if file != nil && geometry.pattern != nil { throw XDMADiagError.invalidInput("give either --file or --pattern, not both") }
            if let path = outputFile { try Files.prepareOutput(path) }
            var job: TransferJob
            if let path = file {
                let bytes = try Files.read(path)
                if bytes.isEmpty { throw XDMADiagError.file(path: path, reason: "it is empty (nothing to send)") }
                let (size, address, offset) = try geometry.validated(size: geometry.size == nil ? bytes.count : nil)
                guard bytes.count >= size else {
                    throw XDMADiagError.invalidInput("file '\(path)' has \(bytes.count) bytes but --size asks for \(size)")
                }
                job = TransferJob(direction: .h2c, size: size)
                job.cardAddress = address
                job.hostOffset = offset
                job.data = .file(path: path, bytes: bytes)
            } else {
                let (size, address, offset) = try geometry.validated(size: nil)
                job = TransferJob(direction: .h2c, size: size)
                job.cardAddress = address
                job.hostOffset = offset
                job.data = .pattern(try geometry.dataPattern(size: size, default: .increment))
            }
            job.channel = geometry.channel
            job.addressGiven = geometry.address != nil
            job.count = geometry.count
            job.verify = verify
            job.outputPath = outputFile
            let progress = Progress(forced: output.progress)
            let report = try XDMAConnection.with(connection, positional: name) { try job.run(on: $0, progress: progress) }
            if output.json { try DiagOutput.json(report) } else { print(report.text) }
        }
    }

    /// `xdma-diag from-device`: like AMD's `dma_from_device`.
    struct FromDevice: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "from-device",
            abstract: "DMA card data to host memory (C2H), like dma_from_device.",
            discussion: """
                Reads --size bytes (default 32) --count times from card address --address (memory-mapped engines) \
                or from the stream (stream engines; sizes must be multiples of 64 bytes, --eop ends each receive \
                at the first packet end). --output writes the last transfer's data to a file; --verify compares \
                every transfer with --pattern (default increment) or with --expect FILE.
                """)
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var geometry: TransferGeometry
        @Option(name: [.customShort("f"), .customLong("output"), .customLong("file")], help: ArgumentHelp("File to write the data to.", valueName: "file"))
        var outputFile: String?
        @Flag(help: "Compare every transfer with --pattern or --expect.")
        var verify = false
        @Option(help: ArgumentHelp("File holding the expected data for --verify.", valueName: "file"))
        var expect: String?
        @Flag(name: [.customShort("e"), .customLong("eop")], help: "C2H stream: end each receive at the first end of packet.")
        var eop = false
        @Argument(help: "Device address or selector (or use --device).")
        var name: String?

        func run() throws {
            if expect != nil && geometry.pattern != nil { throw XDMADiagError.invalidInput("give either --expect or --pattern, not both") }
            if (expect != nil || geometry.pattern != nil) && !verify {
                throw XDMADiagError.invalidInput("--pattern and --expect describe the expected data; add --verify to check it")
            }
            let (size, address, offset) = try geometry.validated(size: nil)
            var job = TransferJob(direction: .c2h, size: size)
            job.channel = geometry.channel
            job.cardAddress = address
            job.addressGiven = geometry.address != nil
            job.hostOffset = offset
            job.count = geometry.count
            job.verify = verify
            job.stopAtEndOfPacket = eop
            if let path = expect {
                let bytes = try Files.read(path)
                guard bytes.count >= size else {
                    throw XDMADiagError.invalidInput("--expect file '\(path)' has \(bytes.count) bytes but --size asks for \(size)")
                }
                job.data = .file(path: path, bytes: bytes)
            } else if verify {
                job.data = .pattern(try geometry.dataPattern(size: size, default: .increment))
            }
            if let path = outputFile {
                try Files.prepareOutput(path)
                job.outputPath = path
            }
            let progress = Progress(forced: output.progress)
            let report = try XDMAConnection.with(connection, positional: name) { try job.run(on: $0, progress: progress) }
            if output.json { try DiagOutput.json(report) } else { print(report.text) }
        }
    }
}
