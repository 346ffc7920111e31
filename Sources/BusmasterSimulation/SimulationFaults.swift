/// Platform-level faults a test can inject into a simulated board (chip-specific faults are
/// offered by each model).
public struct SimulationFaults: Sendable, Equatable {
    /// Every register and config read returns all-ones and writes are dropped, as after a
    /// surprise removal or link loss.
    public var surpriseRemoval = false
    /// Drop this many of the next interrupt messages (MSI, MSI-X or INTx assertions).
    public var interruptsToDrop = 0
    /// Device DMA touching these bus-address ranges fails as if unmapped.
    public var faultingBusRanges: [Range<UInt64>] = []

    /// No faults.
    public init() {}
}
