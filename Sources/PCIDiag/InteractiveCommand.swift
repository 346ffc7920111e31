import ArgumentParser
import Busmaster
import DiagSupport

extension PCIDiag {
    /// `pci-diag menu`: the interactive mode WinDriver users know.
    struct Interactive: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "menu", abstract: "Interactive menu (scan, open, config space, BAR access, interrupts).")
        @OptionGroup var device: DeviceOptions
        @Argument(help: "Device to open first (optional).") var name: String?

        func run() throws {
            let session = try DiagSession(options: device, board: SimulatedBoard.make)
            let state = MenuState(session: session)
            if let n = name { try state.open(n) }
            state.mainMenu().run()
            state.close()
            try session.finish()
        }
    }
}

/// The interactive menu's state: the open device and the access settings.
final class MenuState {
    let session: DiagSession
    var device: PCIDevice?
    var bar = 0
    var width: AccessWidth = .dword
    var interrupts: Interrupts?

    init(session: DiagSession) { self.session = session }

    func open(_ spec: String) throws {
        close()
        device = try session.open(spec)
        print("Opened \(device!.info.summaryLine) via \(device!.platformName)")
    }

    func close() {
        interrupts?.disable()
        interrupts = nil
        device?.close()
        device = nil
    }

    func requireDevice() throws -> PCIDevice {
        guard let d = device else { throw BusmasterError.invalidArgument("no device open: choose 'Find and open a device' first") }
        return d
    }

    func mainMenu() -> Menu {
        let main = Menu("pci-diag main menu")
        main.items = [
            .action("Scan PCI bus") { [self] in
                for info in try session.platform.devices() { print(info.summaryLine) }
            },
            .action("Find and open a device") { [self, main] in
                guard let spec = main.ask("Device (address or selector):"), !spec.isEmpty else { return }
                try open(spec)
            },
            .action("Show the open device") { [self] in print(PCIDiag.Show.describe(try requireDevice().info)) },
            .submenu(configMenu(main)),
            .submenu(barMenu(main)),
            .submenu(interruptMenu(main)),
        ]
        return main
    }

    func configMenu(_ io: Menu) -> Menu {
        Menu(
            "Read/write configuration space",
            items: [
                .action("Dump all") { [self] in
                    let d = try requireDevice()
                    print(HexDump.format(try d.config.readBytes()), terminator: "")
                },
                .action("Read a register") { [self] in
                    let d = try requireDevice()
                    guard let o = io.ask("Offset:") else { return }
                    let off = try NumberParser.offset(o)
                    print("config[\(hexString(UInt64(off), width: .word))] = \(hexString(try d.config.read(width == .qword ? .dword : width, at: off), width: width))")
                },
                .action("Write a register") { [self] in
                    let d = try requireDevice()
                    guard let o = io.ask("Offset:"), let v = io.ask("Value:") else { return }
                    let w = width == .qword ? AccessWidth.dword : width
                    try d.config.write(w, try NumberParser.value(v, width: w), at: try NumberParser.offset(o))
                },
                .action("Named header registers") { [self] in
                    let d = try requireDevice()
                    for r in ConfigRegisters.header {
                        print("\(r.name.padding(toLength: 14, withPad: " ", startingAt: 0)) [\(hexString(UInt64(r.offset), width: .byte))] = \(hexString(try d.config.read(r.width, at: r.offset), width: r.width))")
                    }
                },
                .action("Scan capabilities") { [self] in
                    for c in try requireDevice().config.capabilities() { print(c) }
                },
                .action("Set access width (8/16/32)") { [self] in try setWidth(io) },
            ], input: { readLine() })
    }

    func barMenu(_ io: Menu) -> Menu {
        Menu(
            "Read/write BAR registers",
            items: [
                .action("Choose BAR") { [self] in
                    guard let s = io.ask("BAR (0-5):"), let b = Int(s), (0...5).contains(b) else {
                        print("BAR must be 0-5")
                        return
                    }
                    _ = try requireDevice().bar(b)
                    bar = b
                },
                .action("Set access width (8/16/32/64)") { [self] in try setWidth(io) },
                .action("Read") { [self] in
                    let r = try requireDevice().bar(bar)
                    guard let o = io.ask("Offset:") else { return }
                    let off = try NumberParser.offset(o)
                    try r.validate(offset: off, width: width)
                    print("BAR\(bar)[\(hexString(UInt64(off), width: .dword))] = \(hexString(r.read(width, at: off), width: width))")
                },
                .action("Write") { [self] in
                    let r = try requireDevice().bar(bar)
                    guard let o = io.ask("Offset:"), let v = io.ask("Value:") else { return }
                    let off = try NumberParser.offset(o)
                    try r.validate(offset: off, width: width)
                    r.write(width, try NumberParser.value(v, width: width), at: off)
                },
                .action("Dump 256 bytes") { [self] in
                    let r = try requireDevice().bar(bar)
                    guard let o = io.ask("Offset:") else { return }
                    let off = try NumberParser.offset(o)
                    let n = min(256, r.size - off)
                    try r.validate(offset: off, width: width)
                    let values = stride(from: off, to: off + n - width.bytes + 1, by: width.bytes).map { r.read(width, at: $0) }
                    print(HexDump.formatWords(values, width: width.bytes, startOffset: off), terminator: "")
                },
            ], input: { readLine() })
    }

    func interruptMenu(_ io: Menu) -> Menu {
        Menu(
            "Interrupts",
            items: [
                .action("Enable (MSI-X, MSI, INTx)") { [self] in
                    let d = try requireDevice()
                    interrupts = try d.enableInterrupts()
                    print("Enabled \(interrupts!.kind) with \(interrupts!.vectorCount) vector(s)")
                },
                .action("Wait for an interrupt (5 s)") { [self] in
                    guard let irq = interrupts else { throw BusmasterError.interruptsUnavailable("enable interrupts first") }
                    let e = try irq.wait(timeout: .seconds(5))
                    print("Interrupt on vector \(e.vector) (count \(e.count)); delivered \(irq.delivered), lost \(irq.lost)")
                },
                .action("Disable") { [self] in
                    interrupts?.disable()
                    interrupts = nil
                },
            ], input: { readLine() })
    }

    func setWidth(_ io: Menu) throws {
        guard let s = io.ask("Width in bits:"), let bits = Int(s) else { return }
        width = try NumberParser.width(bits)
    }
}

import Foundation
