import ArgumentParser
import Busmaster
import DiagSupport
import XilinxXDMA

/// A register value for JSON output.
struct RegisterReading: Codable {
    /// `dma`, `user` or `bypass`.
    var bar: String
    /// BAR index.
    var index: Int
    /// Offset.
    var offset: Int
    /// Table name, if any.
    var name: String?
    /// Width in bits.
    var width: Int
    /// Value (nil when the register was skipped).
    var value: UInt64?
    /// Why the register was not read, or what reading it did.
    var note: String?
    /// Decoded identifier, if the value is one.
    var decoded: String?
}

/// Options naming a register.
struct RegisterOptions: ParsableArguments {
    @Option(help: "BAR: dma (the XDMA registers, 32-bit), user (AXI4-Lite, 8/16/32-bit) or bypass (8-64-bit).")
    var bar: BARRole = .dma

    @Option(help: "Access width in bits (default: the register's, else 32).")
    var width: Int?
}

extension BARRole: ExpressibleByArgument {}

extension XDMADiag {
    /// `xdma-diag reg …`: like AMD's `reg_rw` on the `_control` and `_user` nodes.
    struct Reg: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read and write registers of the DMA, user and bypass BARs, by offset or by name.",
            subcommands: [RegRead.self, RegWrite.self, RegList.self])
    }

    struct RegRead: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "read", abstract: "Read a register (e.g. 'reg read IRQ_IDENTIFIER', 'reg read 0x1000', 'reg read 0x0 --bar user').")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var register: RegisterOptions
        @Argument(help: "Register name (DMA BAR) or offset.") var location: String
        @Option(help: "Consecutive registers to read.") var count = 1

        func run() throws {
            guard (1...4096).contains(count) else { throw XDMADiagError.invalidInput("--count must be 1-4096 (got \(count))") }
            if let w = register.width { _ = try NumberParser.width(w) }
            let readings = try XDMAConnection.with(connection) { c -> [RegisterReading] in
                let t = try RegisterTarget.resolve(location, role: register.bar, widthBits: register.width, on: c)
                let last = t.offset + (count - 1) * t.width.bytes
                guard last + t.width.bytes <= t.window.size else {
                    throw XDMADiagError.invalidInput("--count \(count) runs past the end of the \(t.role) BAR (\(Format.size(t.window.size)))")
                }
                let table = t.role == .dma ? XDMARegisterTable.all(engines: c.xdma.engines.map(\.id)) : []
                return try (0..<count).map { i in
                    let off = t.offset + i * t.width.bytes
                    let d = i == 0 ? t.descriptor : table.first { $0.offset == off }
                    var reading = RegisterReading(bar: t.role.rawValue, index: t.window.bar, offset: off, name: d?.name, width: t.width.bits)
                    if let d, !d.access.isSafeToRead {
                        // The register asked for by name or offset is read even when reading clears it;
                        // the ones a --count range passes over are not.
                        if d.access == .writeOnly && i == 0 {
                            throw XDMADiagError.invalidInput("\(d.name) is write-only; reading it returns nothing meaningful")
                        }
                        if i > 0 {
                            reading.note = d.access == .writeOnly ? "not read: write-only" : "not read: reading clears it"
                            return reading
                        }
                        reading.note = "reading cleared it"
                    }
                    let v = try t.window.read(t.width, at: off)
                    reading.value = v
                    if t.role == .dma, d?.name.hasSuffix("IDENTIFIER") == true { reading.decoded = RegisterTarget.decodeIdentifier(v) }
                    return reading
                }
            }
            if output.json {
                try DiagOutput.json(readings)
                return
            }
            for r in readings {
                var line = "\(r.bar.uppercased()) BAR\(r.index)[\(Format.hex32(UInt64(r.offset)))]" + (r.name.map { " \($0)" } ?? "")
                if let v = r.value { line += " = \(hexString(v, width: AccessWidth(bits: r.width) ?? .dword))" }
                if let d = r.decoded { line += "  (\(d))" }
                if let n = r.note { line += r.value == nil ? " (\(n))" : "  (\(n))" }
                print(line)
            }
        }
    }

    struct RegWrite: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "write", abstract: "Write a register (e.g. 'reg write H2C0_INTERRUPT_ENABLE_MASK 0', 'reg write 0x0 0x12 --bar user').")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var register: RegisterOptions
        @Argument(help: "Register name (DMA BAR) or offset.") var location: String
        @Argument(help: "Value.") var value: String
        @Flag(help: "Read the register back after writing.") var readBack = false

        func run() throws {
            if let w = register.width { _ = try NumberParser.width(w) }
            _ = try NumberParser.unsigned(value, name: "value")
            let (target, written, back) = try XDMAConnection.with(connection) { c -> (RegisterTarget, UInt64, UInt64?) in
                let t = try RegisterTarget.resolve(location, role: register.bar, widthBits: register.width, on: c)
                if let d = t.descriptor, !d.access.isWritable {
                    throw XDMADiagError.invalidInput("\(d.name) is \(d.access == .readOnly ? "read-only" : "read-to-clear"); it cannot be written")
                }
                let v = try NumberParser.value(value, width: t.width)
                try t.window.write(t.width, v, at: t.offset)
                let canReadBack = t.descriptor.map { $0.access.isSafeToRead } ?? true
                return (t, v, readBack && canReadBack ? try t.window.read(t.width, at: t.offset) : nil)
            }
            if output.json {
                try DiagOutput.json(RegisterReading(
                    bar: target.role.rawValue, index: target.window.bar, offset: target.offset, name: target.descriptor?.name,
                    width: target.width.bits, value: back ?? written, note: back == nil ? "written" : "read back"))
                return
            }
            var line = "\(target.label) <- \(hexString(written, width: target.width))"
            if let b = back { line += "; reads back \(hexString(b, width: target.width))" }
            if readBack && back == nil { line += "; not read back (reading \(target.descriptor?.name ?? "it") has side effects)" }
            print(line)
        }
    }

    struct RegList: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the XDMA registers of the DMA BAR for the engines present (with --values, their contents).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Only registers whose name contains this text (e.g. H2C0_, IRQ, CONFIG).") var match: String?
        @Flag(help: "Read each register that can be read without side effects.") var values = false

        struct Row: Codable {
            var name: String
            var offset: Int
            var width: Int
            var access: String
            var summary: String
            var value: UInt64?
        }

        func run() throws {
            let rows = try XDMAConnection.with(connection) { c -> [Row] in
                var table = XDMARegisterTable.all(engines: c.xdma.engines.map(\.id))
                if let m = match?.uppercased() { table = table.filter { $0.name.uppercased().contains(m) } }
                if table.isEmpty { throw XDMADiagError.invalidInput("no XDMA register name contains '\(match ?? "")'") }
                return try table.map { d in
                    let v = values && d.access.isSafeToRead ? try c.xdma.control.read(d.width, at: d.offset) : nil
                    return Row(name: d.name, offset: d.offset, width: d.width.bits, access: d.access.rawValue, summary: d.summary, value: v)
                }
            }
            if output.json {
                try DiagOutput.json(rows)
                return
            }
            let nameWidth = max(8, rows.map(\.name.count).max() ?? 8)
            for r in rows {
                var line = "\(Format.hex32(UInt64(r.offset)))  \(r.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  "
                line += r.access.padding(toLength: 4, withPad: " ", startingAt: 0)
                if values { line += "  " + (r.value.map { Format.hex32($0) } ?? "(not read)".padding(toLength: 10, withPad: " ", startingAt: 0)) }
                if !r.summary.isEmpty { line += "  \(r.summary)" }
                print(line)
            }
        }
    }
}
