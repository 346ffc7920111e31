import Foundation
import Busmaster
import XilinxXDMA

/// Waiting for a user interrupt line (`usr_irq_req[n]`), optionally raised by the simulated
/// card after a delay so the wait can be demonstrated.
struct UserInterruptWait {
    /// The line, 0–15.
    var line: Int
    /// How long to wait.
    var timeout: Duration
    /// Simulation only: raise the line after this delay.
    var raiseAfter: Duration?

    /// Delay before `--raise` raises the line.
    static let raiseDelay: Duration = .milliseconds(100)

    /// Enables the lines, waits, and reports; on the simulated card the raised line is
    /// lowered again (its user logic clears the source) and unmasked.
    func run(on c: XDMAConnection) throws -> UserInterruptReport {
        let ui = c.xdma.userInterrupts
        guard (0..<ui.count).contains(line) else {
            throw XDMADiagError.invalidInput("user interrupt line \(line) does not exist (allowed 0-\(ui.count - 1))")
        }
        if raiseAfter != nil && c.simulated == nil {
            throw XDMADiagError.needsSimulation("--raise makes the simulated card raise the line; it needs --simulate")
        }
        try ui.enable()
        defer { try? ui.disable() }
        if let delay = raiseAfter { c.simulated?.raiseUserInterrupt(line, after: delay) }
        let (_, ns) = try timed { try ui.wait(line, timeout: timeout) }
        let vector = try ui.vector(of: line)
        if let card = c.simulated, raiseAfter != nil {
            try card.lowerUserInterrupt(line)
            try ui.unmask(line)
        }
        return UserInterruptReport(
            device: c.pci.address.description, line: line, nanoseconds: ns, vector: vector,
            delivery: c.xdma.interruptKind.map { $0 == .polling ? "polled" : "\($0)" } ?? "polled")
    }
}

/// What a user-interrupt wait saw.
struct UserInterruptReport: Codable {
    /// PCI address.
    var device: String
    /// The line.
    var line: Int
    /// Nanoseconds from the start of the wait to its end.
    var nanoseconds: UInt64
    /// The interrupt vector the line is routed to (nil when polled).
    var vector: Int?
    /// `MSI-X`, `MSI`, `INTx` or `polled`.
    var delivery: String

    /// Text form.
    var text: String {
        "user interrupt \(line) arrived after \(String(format: "%.3f", Double(nanoseconds) / 1e6)) ms ("
            + (vector.map { "\(delivery) vector \($0)" } ?? "polled user request register") + ")"
    }
}
