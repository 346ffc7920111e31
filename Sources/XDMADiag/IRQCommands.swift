import ArgumentParser
import DiagSupport
import XilinxXDMA

extension XDMADiag {
    /// `xdma-diag irq …`.
    struct IRQ: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "irq", abstract: "Wait for user interrupts and show their state.", subcommands: [IRQWait.self, IRQStatus.self])
    }

    struct IRQWait: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wait",
            abstract: "Wait for user interrupt line N (usr_irq_req[N]) until --timeout.",
            discussion: """
                Enables the user interrupt lines and waits for line N; exits non-zero when it does not arrive in \
                time. With --simulate, --raise makes the simulated card raise the line shortly after the wait starts.
                """)
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "User interrupt line 0-15.") var line: Int
        @Flag(help: "Simulation: raise the line 100 ms after the wait starts.") var raise = false

        func run() throws {
            guard (0...15).contains(line) else { throw XDMADiagError.invalidInput("user interrupt line must be 0-15 (got \(line))") }
            if raise && !connection.isSimulated {
                throw XDMADiagError.needsSimulation("--raise makes the simulated card raise the line; it needs --simulate")
            }
            let wait = UserInterruptWait(line: line, timeout: connection.timeoutDuration, raiseAfter: raise ? UserInterruptWait.raiseDelay : nil)
            let report = try XDMAConnection.with(connection) { try wait.run(on: $0) }
            if output.json { try DiagOutput.json(report) } else { print(report.text) }
        }
    }

    struct IRQStatus: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Show the user interrupt lines: enabled, requested, pending, and their vectors.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: OutputOptions

        struct Status: Codable {
            var lines: Int
            var enabled: UInt32
            var requests: UInt32
            var pending: UInt32
            var delivery: String
            var vectors: [Int?]
        }

        func run() throws {
            let status = try XDMAConnection.with(connection) { c -> Status in
                let ui = c.xdma.userInterrupts
                return Status(
                    lines: ui.count, enabled: ui.enabledLines, requests: ui.requests, pending: ui.pending,
                    delivery: c.completionDescription, vectors: try (0..<ui.count).map { try ui.vector(of: $0) })
            }
            if output.json {
                try DiagOutput.json(status)
                return
            }
            print("\(status.lines) user interrupt lines; delivery: \(status.delivery)")
            print("  enabled  0x\(hexDigits(status.enabled, 4))")
            print("  requests 0x\(hexDigits(status.requests, 4)) (active and enabled)")
            print("  pending  0x\(hexDigits(status.pending, 4)) (active)")
            let routed = status.vectors.enumerated().compactMap { n, v in v.map { "\(n)->\($0)" } }
            if !routed.isEmpty { print("  vectors  " + routed.joined(separator: " ")) }
        }
    }
}
