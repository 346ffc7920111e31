import ArgumentParser
import Busmaster
import DiagSupport

extension PCIDiag {
    /// `pci-diag config …`.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dump, read and write configuration space.", subcommands: [ConfigDump.self, ConfigRead.self, ConfigWrite.self])
    }

    struct ConfigDump: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dump", abstract: "Hex dump of config space (like lspci -xxx).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: "Device address or selector.")
        var name: String?
        @Option(help: "First byte (default 0).") var offset: String = "0"
        @Option(help: "Number of bytes (default: all readable).") var length: String?

        func run() throws {
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let d = try session.open(name)
            let start = try NumberParser.offset(offset)
            let n = try length.map { try NumberParser.size($0, name: "length") } ?? max(0, d.config.size - start)
            let bytes = try d.config.readBytes(at: start, count: n)
            if format.json {
                try DiagOutput.json(ByteDump(offset: start, data: bytes))
            } else {
                print(d.info.summaryLine)
                print(HexDump.format(bytes, startOffset: start), terminator: "")
            }
            d.close()
            try session.finish()
        }
    }

    struct ConfigRead: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "read", abstract: "Read one config register.")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: "Device address or selector.") var name: String
        @Argument(help: "Offset (e.g. 0x04).") var offset: String
        @Option(help: "Width in bits: 8, 16 or 32.") var width: Int = 32

        func run() throws {
            let w = try NumberParser.width(width)
            guard w != .qword else { throw ValidationError("config space accesses are 8, 16 or 32 bits") }
            let off = try NumberParser.offset(offset)
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let d = try session.open(name)
            let v = try d.config.read(w, at: off)
            if format.json { try DiagOutput.json(RegisterValue(offset: off, width: w.bits, value: v)) } else {
                print("config[\(hexString(UInt64(off), width: .word))] = \(hexString(v, width: w))")
            }
            d.close()
            try session.finish()
        }
    }

    struct ConfigWrite: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "write", abstract: "Write one config register.")
        @OptionGroup var device: DeviceOptions
        @Argument(help: "Device address or selector.") var name: String
        @Argument(help: "Offset (e.g. 0x04).") var offset: String
        @Argument(help: "Value.") var value: String
        @Option(help: "Width in bits: 8, 16 or 32.") var width: Int = 32

        func run() throws {
            let w = try NumberParser.width(width)
            guard w != .qword else { throw ValidationError("config space accesses are 8, 16 or 32 bits") }
            let off = try NumberParser.offset(offset)
            let v = try NumberParser.value(value, width: w)
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let d = try session.open(name)
            try d.config.write(w, v, at: off)
            print("config[\(hexString(UInt64(off), width: .word))] ← \(hexString(v, width: w)); reads back \(hexString(try d.config.read(w, at: off), width: w))")
            d.close()
            try session.finish()
        }
    }
}

/// A register read result for JSON output.
struct RegisterValue: Codable {
    var bar: Int?
    var offset: Int
    var width: Int
    var value: UInt64

    init(bar: Int? = nil, offset: Int, width: Int, value: UInt64) {
        self.bar = bar
        self.offset = offset
        self.width = width
        self.value = value
    }
}

/// A byte dump for JSON output.
struct ByteDump: Codable {
    var offset: Int
    var data: [UInt8]
}
