import Busmaster

/// Interrupt delivery of a VFIO device through eventfds: MSI-X, MSI or INTx (only one
/// at a time), the INTx unmask after the driver's ack, and the REQ (release request)
/// notification.
final class VFIOInterrupts: @unchecked Sendable {
    private let device: VFIODeviceFile
    private let lock = Lock()
    private var activeIndex: UInt32?
    private var sources: [EventFDInterruptSource] = []
    /// Signalled by the kernel when someone wants the device back (an unbind is waiting).
    let releaseRequest: EventFD?
    private var releaseRequestSeen = false

    init(device: VFIODeviceFile) {
        self.device = device
        var req: EventFD?
        if let r = device.irqs[VFIOIRQIndex.req], r.count >= 1, r.flags & VFIOConstant.irqInfoEventFD != 0,
            let fd = try? EventFD()
        {
            do {
                try device.setIRQs(
                    index: VFIOIRQIndex.req, flags: VFIOConstant.irqSetDataEventFD | VFIOConstant.irqSetActionTrigger,
                    count: 1, eventFDs: [fd.fd])
                req = fd
            } catch {
                req = nil  // Older kernels without REQ support: unbinding then simply waits for close.
            }
        }
        releaseRequest = req
    }

    static func index(of kind: InterruptKind) -> UInt32? {
        switch kind {
        case .intx: VFIOIRQIndex.intx
        case .msi: VFIOIRQIndex.msi
        case .msix: VFIOIRQIndex.msix
        case .polling: nil
        }
    }

    /// Vectors per kind that can be signalled through eventfds.
    func vectorCounts() -> [InterruptKind: Int] {
        var out: [InterruptKind: Int] = [:]
        for kind in [InterruptKind.msix, .msi, .intx] {
            guard let i = Self.index(of: kind), let irq = device.irqs[i], irq.flags & VFIOConstant.irqInfoEventFD != 0 else { continue }
            if irq.count > 0 { out[kind] = Int(irq.count) }
        }
        return out
    }

    /// Attaches `vectors` eventfds to the index of `kind`, after disabling whatever was on.
    func enable(_ kind: InterruptKind, vectors: Int) throws -> [any InterruptSource] {
        guard let index = Self.index(of: kind) else {
            throw BusmasterError.invalidArgument("polling needs no interrupt set-up")
        }
        let offered = vectorCounts()[kind] ?? 0
        guard offered > 0 else {
            throw BusmasterError.interruptsUnavailable("\(device.address) offers no \(kind) interrupts through VFIO")
        }
        guard vectors >= 1 && vectors <= offered else {
            throw BusmasterError.invalidArgument("\(kind) vector count must be 1...\(offered) on \(device.address) (got \(vectors))")
        }
        disable()
        let fresh = try (0..<vectors).map { _ in try EventFDInterruptSource() }
        try device.setIRQs(
            index: index, flags: VFIOConstant.irqSetDataEventFD | VFIOConstant.irqSetActionTrigger,
            count: UInt32(vectors), eventFDs: fresh.map(\.eventFD.fd))
        lock.withLock {
            activeIndex = index
            sources = fresh
        }
        return fresh
    }

    /// Turns the active index off and wakes its waiters. Idempotent.
    func disable() {
        let (index, old) = lock.withLock { () -> (UInt32?, [EventFDInterruptSource]) in
            defer {
                activeIndex = nil
                sources = []
            }
            return (activeIndex, sources)
        }
        guard let index else { return }
        try? device.setIRQs(index: index, flags: VFIOConstant.irqSetDataNone | VFIOConstant.irqSetActionTrigger, count: 0)
        for s in old { s.cancel() }
    }

    /// Unmasks INTx (vfio-pci masked it when it fired).
    func unmaskINTx() throws {
        guard lock.withLock({ activeIndex }) == VFIOIRQIndex.intx else {
            throw BusmasterError.interruptsUnavailable("INTx is not enabled on \(device.address), so there is nothing to unmask")
        }
        try device.setIRQs(
            index: VFIOIRQIndex.intx, flags: VFIOConstant.irqSetDataNone | VFIOConstant.irqSetActionUnmask, count: 1)
    }

    /// Whether the kernel asked for the device back (latched once seen).
    var releaseRequested: Bool {
        lock.withLock {
            if !releaseRequestSeen, let r = releaseRequest, r.drain() > 0 { releaseRequestSeen = true }
            return releaseRequestSeen
        }
    }

    /// Stops REQ notification (before the device fd closes).
    func shutdown() {
        disable()
        if releaseRequest != nil {
            try? device.setIRQs(index: VFIOIRQIndex.req, flags: VFIOConstant.irqSetDataNone | VFIOConstant.irqSetActionTrigger, count: 0)
        }
    }
}
