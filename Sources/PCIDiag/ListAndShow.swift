import ArgumentParser
import Busmaster
import DiagSupport

/// Output format shared by subcommands.
struct FormatOptions: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false
}

extension PCIDiag {
    /// `pci-diag list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List devices (like lspci).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var format: FormatOptions
        @Option(name: .customShort("s"), help: "Slot selector: [[[[domain]:]bus]:][dev][.[func]].")
        var slot: String?
        @Option(name: .customShort("d"), help: "ID selector: [vendor]:[device][:class[:progif]].")
        var ids: String?

        func run() throws {
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            var found = try session.platform.devices()
            if let s = slot { found = found.filter { (try? DeviceSelector(slot: s).matches($0)) ?? false }; _ = try DeviceSelector(slot: s) }
            if let d = ids { _ = try DeviceSelector(ids: d); found = found.filter { (try? DeviceSelector(ids: d).matches($0)) ?? false } }
            if format.json {
                try DiagOutput.json(found)
            } else {
                if found.isEmpty { print("no devices match") }
                for info in found {
                    print(info.summaryLine + (info.driver.map { "  [driver: \($0)]" } ?? ""))
                }
            }
        }
    }

    /// `pci-diag show`.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one device in detail (identity, BARs, IRQ, capabilities).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: "Device address or selector (optional when only one device exists).")
        var name: String?

        func run() throws {
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let info = try session.resolve(name)
            if format.json {
                try DiagOutput.json(info)
                return
            }
            print(Self.describe(info))
        }

        static func describe(_ info: PCIDeviceInfo) -> String {
            var out = info.summaryLine + "\n"
            if let n = info.names?.subsystem {
                out += "\tSubsystem: \(n) [\(hexDigits(info.subsystemVendorID, 4)):\(hexDigits(info.subsystemID, 4))]\n"
            } else {
                out += "\tSubsystem: [\(hexDigits(info.subsystemVendorID, 4)):\(hexDigits(info.subsystemID, 4))]\n"
            }
            out += "\tClass: \(hexDigits(info.classCode, 6)), revision \(hexDigits(info.revision, 2)), header type \(info.headerType)\n"
            let pin = info.interruptPin == 0 ? "none" : "INT" + String(UnicodeScalar(UInt8(64) + info.interruptPin))
            out += "\tInterrupt: pin \(pin)" + (info.irq.map { ", IRQ \($0)" } ?? "") + "\n"
            for b in info.bars { out += "\tRegion \(b.index): \(b.summary)\n" }
            if info.bars.isEmpty { out += "\tRegions: none\n" }
            for c in info.capabilities { out += "\tCapabilities: \(c)\n" }
            if info.configSize < 256 {
                out += "\tNote: only \(info.configSize) bytes of config space are readable (run as root for capabilities)\n"
            }
            if let d = info.driver { out += "\tKernel driver in use: \(d)\n" }
            if let g = info.iommuGroup { out += "\tIOMMU group: \(g)\n" }
            return out
        }
    }

    /// `pci-diag caps`.
    struct Caps: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List standard and extended capabilities (walks config space).")
        @OptionGroup var device: DeviceOptions
        @OptionGroup var format: FormatOptions
        @Argument(help: "Device address or selector.")
        var name: String?

        func run() throws {
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let d = try session.open(name)
            let caps = try d.config.capabilities()
            if format.json { try DiagOutput.json(caps) } else {
                if caps.isEmpty { print("no capabilities") }
                for c in caps { print(c) }
            }
            d.close()
            try session.finish()
        }
    }
}
