import ArgumentParser
import Busmaster
import DiagSupport
import XilinxXDMA

extension XDMADiag {
    /// `xdma-diag menu`: the interactive mode of Jungo's `xdma_diag`.
    struct Interactive: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "menu",
            abstract: "Interactive menu: info, registers, DMA to/from the card, loopback, performance, user interrupts.",
            discussion: "Choices are read from standard input; end of input (Ctrl-D) leaves the menu.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "Device address or selector (or use --device).") var name: String?

        func validate() throws {
            if output.json { throw ValidationError("the interactive menu prints text; --json is not available here") }
        }

        func run() throws {
            try XDMAConnection.with(connection, positional: name) { c in
                print("Opened \(c.pci.info.summaryLine) via \(c.pci.platformName); completion: \(c.completionDescription)")
                let state = MenuSession(connection: c, progress: Progress(forced: output.progress))
                state.mainMenu().run()
            }
        }
    }
}

/// The interactive menu's state: the open card and the register access settings.
final class MenuSession {
    let connection: XDMAConnection
    let progress: Progress
    var bar: BARRole = .dma
    var width: Int? = nil

    init(connection: XDMAConnection, progress: Progress) {
        self.connection = connection
        self.progress = progress
    }

    /// Asks with a default shown in brackets; nil at end of input.
    private func ask(_ io: Menu, _ prompt: String, default value: String) -> String? {
        guard let line = io.ask("\(prompt) [\(value)]:") else { return nil }
        return line.isEmpty ? value : line
    }

    func mainMenu() -> Menu {
        let main = Menu("xdma-diag main menu (\(connection.pci.address.shortDescription))")
        main.items = [
            .action("Show device information") { [self] in print(try DeviceReport.gather(connection).text) },
            .submenu(registerMenu(main)),
            .action("DMA to device (H2C)") { [self, main] in try transfer(.h2c, main) },
            .action("DMA from device (C2H)") { [self, main] in try transfer(.c2h, main) },
            .action("Loopback test") { [self, main] in
                guard let ch = ask(main, "Channel", default: "0"), let s = ask(main, "Size", default: "1M"),
                    let n = ask(main, "Count", default: "1")
                else { return }
                var test = LoopbackTest(size: try TransferLimits.size(s))
                test.channel = try integer(ch, "channel", 0...3)
                test.count = try integer(n, "count", 1...100_000)
                print(try test.run(on: connection, progress: progress).text)
            },
            .action("Performance sweep") { [self, main] in
                guard let lo = ask(main, "Smallest size", default: "4K"), let hi = ask(main, "Largest size", default: "64M"),
                    let ch = ask(main, "Channel", default: "0")
                else { return }
                var sweep = PerfSweep()
                sweep.minimum = try TransferLimits.size(lo)
                sweep.maximum = try TransferLimits.size(hi)
                guard sweep.minimum <= sweep.maximum else { throw XDMADiagError.invalidInput("the smallest size must not exceed the largest") }
                sweep.channel = try integer(ch, "channel", 0...3)
                var first = true
                _ = try sweep.run(on: connection, progress: progress) { point, report in
                    progress.finish()
                    if first {
                        print(report.title)
                        print(PerfReport.header)
                        first = false
                    }
                    print(PerfReport.row(point))
                }
            },
            .submenu(interruptMenu(main)),
        ]
        return main
    }

    private func integer(_ text: String, _ what: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(text), range.contains(v) else {
            throw XDMADiagError.invalidInput("\(what) must be \(range.lowerBound)-\(range.upperBound) (got '\(text)')")
        }
        return v
    }

    private func transfer(_ direction: XDMADirection, _ io: Menu) throws {
        guard let ch = ask(io, "Channel", default: "0"), let a = ask(io, "Card address", default: "0"),
            let s = ask(io, "Size", default: "4K"), let p = ask(io, direction == .h2c ? "Pattern" : "Verify against pattern (none to skip)",
                default: direction == .h2c ? "increment" : "none")
        else { return }
        var job = TransferJob(direction: direction, size: try TransferLimits.size(s))
        job.channel = try integer(ch, "channel", 0...3)
        job.cardAddress = try TransferLimits.cardAddress(a)
        job.addressGiven = true
        if p.lowercased() != "none" {
            let pattern = try DataPattern(parsing: p, seed: 1)
            try pattern.check(size: job.size)
            job.data = .pattern(pattern)
            job.verify = direction == .c2h
        }
        print(try job.run(on: connection, progress: progress).text)
    }

    func registerMenu(_ io: Menu) -> Menu {
        Menu(
            "Read/write registers",
            items: [
                .action("Choose BAR (dma, user, bypass)") { [self] in
                    guard let b = ask(io, "BAR", default: bar.rawValue) else { return }
                    guard let role = BARRole(rawValue: b.lowercased()) else { throw XDMADiagError.invalidInput("BAR must be dma, user or bypass") }
                    bar = role
                    print("Using the \(role) BAR")
                },
                .action("Set access width (8/16/32/64)") { [self] in
                    guard let w = ask(io, "Width in bits", default: String(width ?? 32)) else { return }
                    width = try NumberParser.width(try integer(w, "width", 8...64)).bits
                },
                .action("Read a register (name or offset)") { [self] in
                    guard let r = io.ask("Register:"), !r.isEmpty else { return }
                    let t = try RegisterTarget.resolve(r, role: bar, widthBits: width, on: connection)
                    let v = try t.window.read(t.width, at: t.offset)
                    var line = "\(t.label) = \(hexString(v, width: t.width))"
                    if t.role == .dma, t.descriptor?.name.hasSuffix("IDENTIFIER") == true, let d = RegisterTarget.decodeIdentifier(v) { line += "  (\(d))" }
                    print(line)
                },
                .action("Write a register (name or offset)") { [self] in
                    guard let r = io.ask("Register:"), !r.isEmpty, let v = io.ask("Value:") else { return }
                    let t = try RegisterTarget.resolve(r, role: bar, widthBits: width, on: connection)
                    if let d = t.descriptor, !d.access.isWritable { throw XDMADiagError.invalidInput("\(d.name) cannot be written (\(d.access.rawValue))") }
                    let value = try NumberParser.value(v, width: t.width)
                    try t.window.write(t.width, value, at: t.offset)
                    print("\(t.label) <- \(hexString(value, width: t.width))")
                },
                .action("List the DMA BAR registers with values") { [self] in
                    for d in XDMARegisterTable.all(engines: connection.xdma.engines.map(\.id)) {
                        let v = d.access.isSafeToRead ? Format.hex32(try connection.xdma.control.read(d.width, at: d.offset)) : "(not read)"
                        print("\(Format.hex32(UInt64(d.offset)))  \(d.name.padding(toLength: 34, withPad: " ", startingAt: 0))  \(v)")
                    }
                },
            ], input: { readLine() })
    }

    func interruptMenu(_ io: Menu) -> Menu {
        Menu(
            "User interrupts",
            items: [
                .action("Wait for a user interrupt") { [self] in
                    guard let l = ask(io, "Line", default: "0"), let t = ask(io, "Timeout", default: "5s") else { return }
                    let raise: Duration? = connection.simulated == nil ? nil : UserInterruptWait.raiseDelay
                    if raise != nil { print("(the simulated card raises the line after 100 ms)") }
                    let wait = UserInterruptWait(line: try integer(l, "line", 0...15), timeout: try DurationParser.parse(t), raiseAfter: raise)
                    print(try wait.run(on: connection).text)
                },
                .action("Show user interrupt status") { [self] in
                    let ui = connection.xdma.userInterrupts
                    print("enabled 0x\(hexDigits(ui.enabledLines, 4)), requests 0x\(hexDigits(ui.requests, 4)), pending 0x\(hexDigits(ui.pending, 4))")
                },
            ], input: { readLine() })
    }
}
