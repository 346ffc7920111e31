#if canImport(Glibc)
    import Glibc
#endif
import Busmaster

/// One plugged-in model: its config space, BAR addresses, interrupt state and DMA reach.
/// All state is guarded by the scheduler's lock.
final class SimulatedSlot: @unchecked Sendable {
    let address: PCIAddress
    let model: any DeviceModel
    let scheduler: SimulationScheduler
    weak var platform: SimulatedPlatform?
    var config: SimulatedConfigSpace
    let iommu: SimulatedIOMMU
    var sources: [SimulatedInterruptSource] = []
    var activeKind: InterruptKind?
    var intxLevel = false
    var intxMasked = false
    var isOpen = false
    lazy var context = DeviceContext(slot: self)

    init(address: PCIAddress, model: any DeviceModel, scheduler: SimulationScheduler, iommu: SimulatedIOMMU,
         barAddresses: [Int: UInt64], platform: SimulatedPlatform) {
        self.address = address
        self.model = model
        self.scheduler = scheduler
        self.iommu = iommu
        self.platform = platform
        self.config = SimulatedConfigSpace(configuration: model.configuration, barAddresses: barAddresses)
    }

    var info: PCIDeviceInfo {
        let c = model.configuration
        var info = PCIDeviceInfo.decode(address: address, config: config.bytes)
        info.bars = c.bars.map {
            BARInfo(index: $0.index, address: config.barAddresses[$0.index] ?? 0, size: UInt64($0.size), kind: .memory,
                    is64Bit: $0.is64Bit, isPrefetchable: $0.isPrefetchable)
        }
        info.driver = isOpen ? "busmaster" : nil
        return info
    }

    // MARK: DMA (lock held)

    func dma(_ address: UInt64, _ length: Int, write: Bool, _ body: (UnsafeMutableRawPointer, Int, Int) -> Void) throws(DMAFault) {
        guard length > 0 else { return }
        guard config.busMaster else {
            throw report(DMAFault(address: address, length: length, isRead: !write, reason: .busMasterDisabled))
        }
        if let p = platform, !p.faultsUnlocked.faultingBusRanges.isEmpty {
            let r = address..<(address &+ UInt64(length))
            if p.faultsUnlocked.faultingBusRanges.contains(where: { $0.overlaps(r) }) {
                throw report(DMAFault(address: address, length: length, isRead: !write, reason: .injected))
            }
        }
        do {
            try iommu.withHostRanges(address, length, write: write, body)
        } catch {
            throw report(error)
        }
    }

    private func report(_ f: DMAFault) -> DMAFault {
        platform?.recordFault(f, device: address)
        return f
    }

    // MARK: Interrupts (lock held)

    func deliver(vector: Int) -> Bool {
        guard vector >= 0, vector < sources.count else { return false }
        if let p = platform, p.consumeDroppedInterrupt() { return false }
        sources[vector].eventFD.signal()
        return true
    }

    func setINTx(_ level: Bool) {
        intxLevel = level
        config.setINTxStatus(level)
        evaluateINTx()
    }

    func evaluateINTx() {
        guard intxLevel, activeKind == .intx, !intxMasked, !config.intxDisabled, !sources.isEmpty else { return }
        intxMasked = true  // VFIO automasks a level interrupt until the driver unmasks it
        if let p = platform, p.consumeDroppedInterrupt() { return }
        sources[0].eventFD.signal()
    }
}

/// An interrupt vector of a simulated device: a real eventfd the model signals, plus the
/// stepped-mode rule that waiting runs the simulation until the vector fires or nothing is left.
final class SimulatedInterruptSource: InterruptSource, @unchecked Sendable {
    let eventFD: EventFD
    private let cancelFD: EventFD
    private let scheduler: SimulationScheduler

    init(scheduler: SimulationScheduler) throws {
        eventFD = try EventFD()
        cancelFD = try EventFD()
        self.scheduler = scheduler
    }

    func wait(timeoutNanos: UInt64) throws -> UInt64 {
        if scheduler.isStepped {
            var n: UInt64 = 0
            scheduler.lock.lock()
            while true {
                n = eventFD.drain()
                if n > 0 || !scheduler.runNext() { break }
            }
            scheduler.lock.unlock()
            if n > 0 { return n }
            // Nothing left to happen in simulated time: the wait would time out.
            return try eventFD.wait(timeoutNanos: 0, cancel: cancelFD)
        }
        return try eventFD.wait(timeoutNanos: timeoutNanos, cancel: cancelFD)
    }

    func cancel() { cancelFD.signal() }
}
