import ArgumentParser
import Busmaster

/// How transfers learn that they finished, as `load_driver.sh` offers it.
enum CompletionChoice: String, ExpressibleByArgument, CaseIterable, Codable {
    /// Interrupts, trying MSI-X, MSI, then INTx; poll mode when none works (AMD's default).
    case auto
    /// Poll-mode writeback: no interrupts.
    case poll
    /// MSI-X only.
    case msix
    /// MSI only.
    case msi
    /// Legacy INTx only.
    case intx

    /// Interrupt kinds to ask the driver for, in order.
    var interruptKinds: [InterruptKind] {
        switch self {
        case .auto: [.msix, .msi, .intx]
        case .poll: []
        case .msix: [.msix]
        case .msi: [.msi]
        case .intx: [.intx]
        }
    }

    /// The kind that must be in effect after opening (nil: any, including poll fallback).
    var required: InterruptKind? {
        switch self {
        case .auto, .poll: nil
        case .msix: .msix
        case .msi: .msi
        case .intx: .intx
        }
    }
}
