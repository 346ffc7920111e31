import ArgumentParser
import Busmaster
import DiagSupport

/// A BAR and offset given on the command line, validated against the device.
struct BARLocation: ParsableArguments {
    @Argument(help: "Device address or selector.") var name: String
    @Argument(help: "BAR index 0-5.") var bar: Int
    @Argument(help: "Offset in the BAR (e.g. 0x20).") var offset: String
    @Option(help: "Access width in bits: 8, 16, 32 or 64.") var width: Int = 32

    func open(_ session: DiagSession) throws -> (PCIDevice, MMIORegion, Int, AccessWidth) {
        let w = try NumberParser.width(width)
        let off = try NumberParser.offset(offset)
        guard (0...5).contains(bar) else { throw ValidationError("BAR index must be 0-5 (got \(bar))") }
        let d = try session.open(name)
        let region = try d.bar(bar)
        try region.validate(offset: off, width: w)
        return (d, region, off, w)
    }
}

extension PCIDiag {
    /// `pci-diag read`.
    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a BAR register at 8/16/32/64 bits.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var format: FormatOptions
        @OptionGroup var location: BARLocation
        @Option(help: "Number of consecutive registers to read.") var count: Int = 1

        func run() throws {
            guard (1...65536).contains(count) else { throw ValidationError("--count must be 1...65536") }
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let (d, region, off, w) = try location.open(session)
            try region.validate(offset: off + (count - 1) * w.bytes, width: w)
            var values: [RegisterValue] = []
            for i in 0..<count {
                values.append(RegisterValue(bar: location.bar, offset: off + i * w.bytes, width: w.bits, value: region.read(w, at: off + i * w.bytes)))
            }
            if format.json { try DiagOutput.json(values) } else {
                for v in values { print("BAR\(location.bar)[\(hexString(UInt64(v.offset), width: .dword))] = \(hexString(v.value, width: w))") }
            }
            d.close()
            try session.finish()
        }
    }

    /// `pci-diag write`.
    struct Write: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a BAR register at 8/16/32/64 bits.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var location: BARLocation
        @Argument(help: "Value to write.") var value: String
        @Flag(help: "Read the register back after writing.") var readBack = false

        func run() throws {
            let w = try NumberParser.width(location.width)
            let v = try NumberParser.value(value, width: w)
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let (d, region, off, _) = try location.open(session)
            region.write(w, v, at: off)
            var line = "BAR\(location.bar)[\(hexString(UInt64(off), width: .dword))] ← \(hexString(v, width: w))"
            if readBack { line += "; reads back \(hexString(region.read(w, at: off), width: w))" }
            print(line)
            d.close()
            try session.finish()
        }
    }

    /// `pci-diag dump`.
    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dump a range of a BAR.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: "Device address or selector.") var name: String
        @Argument(help: "BAR index 0-5.") var bar: Int
        @Option(help: "First offset.") var offset: String = "0"
        @Option(help: "Bytes to dump (K/M suffixes allowed).") var length: String = "256"
        @Option(help: "Access width in bits: 8, 16, 32 or 64.") var width: Int = 32

        func run() throws {
            let w = try NumberParser.width(width)
            let off = try NumberParser.offset(offset)
            let n = try NumberParser.size(length, name: "length")
            guard n > 0, n % w.bytes == 0 else { throw ValidationError("--length must be a positive multiple of the width (\(w.bytes) bytes)") }
            guard n <= 16 << 20 else { throw ValidationError("--length is limited to 16M per dump") }
            guard (0...5).contains(bar) else { throw ValidationError("BAR index must be 0-5 (got \(bar))") }
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let d = try session.open(name)
            let region = try d.bar(bar)
            try region.validate(offset: off, width: w)
            try region.validate(offset: off + n - w.bytes, width: w)
            let values = stride(from: off, to: off + n, by: w.bytes).map { region.read(w, at: $0) }
            if format.json {
                try DiagOutput.json(values.enumerated().map { RegisterValue(bar: bar, offset: off + $0.offset * w.bytes, width: w.bits, value: $0.element) })
            } else {
                print(HexDump.formatWords(values, width: w.bytes, startOffset: off), terminator: "")
            }
            d.close()
            try session.finish()
        }
    }
}
