import Busmaster
import DiagSupport
import XilinxXDMA

/// Which BAR a register command works on.
enum BARRole: String, CaseIterable, Codable {
    /// The DMA ("control") BAR: the XDMA registers.
    case dma
    /// The AXI4-Lite ("user") BAR.
    case user
    /// The DMA bypass BAR.
    case bypass

    /// Access widths the BAR takes (XDMA registers: aligned 32-bit only; AXI4-Lite: up to 32).
    var allowedWidths: [AccessWidth] {
        switch self {
        case .dma: [.dword]
        case .user: [.byte, .word, .dword]
        case .bypass: [.byte, .word, .dword, .qword]
        }
    }
}

/// A register named on the command line: a BAR, an offset, a width and (on the DMA BAR) its
/// entry in the XDMA register table.
struct RegisterTarget {
    /// The BAR's role.
    var role: BARRole
    /// The validated window.
    var window: XDMABARWindow
    /// Byte offset.
    var offset: Int
    /// Access width.
    var width: AccessWidth
    /// Table entry (DMA BAR).
    var descriptor: RegisterDescriptor?

    /// Resolves `text` (a register name such as `H2C0_CONTROL`, or an offset) on `role`'s BAR
    /// of `c`, with `widthBits` (nil: the register's own width, else 32).
    static func resolve(_ text: String, role: BARRole, widthBits: Int?, on c: XDMAConnection) throws -> RegisterTarget {
        let window: XDMABARWindow
        switch role {
        case .dma: window = c.xdma.control
        case .user, .bypass:
            guard let w = role == .user ? c.xdma.user : c.xdma.bypass else {
                throw XDMADiagError.invalidInput("this card has no \(role) BAR (\(c.xdma.bars))")
            }
            window = w
        }
        let present = c.xdma.engines.map(\.id)
        var descriptor: RegisterDescriptor? = nil
        let offset: Int
        if let first = text.first, first.isNumber {
            offset = try NumberParser.offset(text, name: "register offset")
            if role == .dma { descriptor = XDMARegisterTable.all(engines: present).first { $0.offset == offset } }
        } else {
            guard role == .dma else {
                throw XDMADiagError.invalidInput("register names apply to the DMA BAR; give an offset for the \(role) BAR (e.g. 0x0)")
            }
            let entry = try lookUp(text, present: present)
            descriptor = entry
            offset = entry.offset
        }
        let width: AccessWidth
        if let bits = widthBits {
            width = try NumberParser.width(bits)
        } else {
            width = descriptor?.width ?? .dword
        }
        guard role.allowedWidths.contains(width) else {
            let allowed = role.allowedWidths.map { String($0.bits) }.joined(separator: ", ")
            throw XDMADiagError.invalidInput("the \(role) BAR takes \(allowed)-bit accesses; \(width.bits) bits is not allowed"
                + (role == .dma ? " (XDMA registers are aligned 32-bit)" : ""))
        }
        guard offset % width.bytes == 0, offset + width.bytes <= window.size else {
            throw XDMADiagError.invalidInput(
                "offset 0x\(String(offset, radix: 16)) is not a \(width.bits)-bit register of the \(role) BAR \(window.bar) "
                    + "(allowed: multiples of \(width.bytes) in 0x0-0x\(String(window.size - width.bytes, radix: 16)))")
        }
        return RegisterTarget(role: role, window: window, offset: offset, width: width, descriptor: descriptor)
    }

    /// The table entry named `name` among the present engines' registers.
    static func lookUp(_ name: String, present: [XDMAEngineID]) throws -> RegisterDescriptor {
        if let d = XDMARegisterTable.named(name, engines: present) { return d }
        if XDMARegisterTable.named(name) != nil {
            let engine = name.uppercased().prefix(4)
            throw XDMADiagError.invalidInput(
                "register \(name.uppercased()) belongs to engine \(engine), which this card does not have "
                    + "(engines: \(present.map(\.description).joined(separator: ", ")))")
        }
        let key = name.uppercased()
        let similar = XDMARegisterTable.all(engines: present).map(\.name).filter { $0.contains(key) || key.contains($0) }
        throw XDMADiagError.invalidInput(
            "no XDMA register named '\(name)'" + (similar.isEmpty ? "" : " (did you mean \(similar.prefix(5).joined(separator: ", "))?)")
                + "; 'xdma-diag reg list' shows them all")
    }

    /// `DMA BAR1[0x00002000] IRQ_IDENTIFIER`.
    var label: String {
        "\(role.rawValue.uppercased()) BAR\(window.bar)[\(Format.hex32(UInt64(offset)))]" + (descriptor.map { " \($0.name)" } ?? "")
    }

    /// Decodes an XDMA identifier value (`0x1FCt_sccvv`), or nil when `value` is not one.
    static func decodeIdentifier(_ value: UInt64) -> String? {
        typealias I = XDMARegisters.Identifier
        let v = UInt32(truncatingIfNeeded: value)
        guard value <= UInt64(UInt32.max), I.subsystem.extract(from: v) == I.subsystemValue else { return nil }
        let target = I.target.extract(from: v)
        let names = ["H2C channel", "C2H channel", "IRQ block", "config block", "H2C SGDMA", "C2H SGDMA", "SGDMA common"]
        let name = Int(target) < names.count ? names[Int(target)] : "target \(target)"
        var parts = ["XDMA \(name)"]
        if target <= 1 || target == 4 || target == 5 {
            parts.append("channel \(I.channel.extract(from: v))")
            parts.append(I.stream.isSet(in: v) ? "AXI4-Stream" : "AXI4-MM")
        }
        parts.append("version \(I.version.extract(from: v))")
        return parts.joined(separator: ", ")
    }
}
