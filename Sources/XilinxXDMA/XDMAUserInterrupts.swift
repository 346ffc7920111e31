import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// The user interrupt lines 0…15 (`usr_irq_req[n]`) of the XDMA IRQ block (§5.8).
///
/// Protocol: ``enable()`` maps the vectors and enables the lines with `(1 << count) - 1`.
/// ``wait(_:timeout:)`` returns once line `n` fired and leaves it **masked**, so a level
/// source cannot fire again and again; clear the source in your user logic (normally a
/// register in the AXI-Lite BAR), then call ``unmask(_:)`` to receive the next one. A source
/// still high when unmasked fires again at once, as the IP does.
///
/// Without device interrupts (poll mode), waiting polls the user request register.
public final class XDMAUserInterrupts: @unchecked Sendable {
    /// Lines the design drives (from ``XDMAOptions/userInterruptCount``).
    public let count: Int
    let state: XDMADeviceState
    private var bar: MMIORegion { state.bar }
    private typealias I = XDMARegisters.IRQ

    init(count: Int, state: XDMADeviceState) {
        self.count = count
        self.state = state
    }

    private func check(_ n: Int) throws(XDMAError) {
        try state.check()
        guard (0..<count).contains(n) else {
            throw .invalidRequest("user interrupt \(n) does not exist (allowed 0...\(count - 1))")
        }
    }

    private func bit(_ n: Int) -> UInt32 { UInt32(1) << UInt32(n) }

    /// The enable mask for all lines: `(1 << count) - 1` (0xFFFF for 16; not libxdma's 0x1FFFF).
    public var allLinesMask: UInt32 { count >= 32 ? .max : (UInt32(1) << UInt32(count)) - 1 }

    /// Programs the user vector fields (when interrupts are enabled) and enables every line.
    public func enable() throws(XDMAError) {
        try state.check()
        state.router?.programVectors()
        state.userLinesEnabled.store(allLinesMask, ordering: .releasing)
        bar.write(I.userEnableSet, allLinesMask)
    }

    /// Disables every line.
    public func disable() throws(XDMAError) {
        try state.check()
        state.userLinesEnabled.store(0, ordering: .releasing)
        bar.write(I.userEnableClear, allLinesMask)
    }

    /// Masks (disables) line `n`.
    public func mask(_ n: Int) throws(XDMAError) {
        try check(n)
        bar.write(I.userEnableClear, bit(n))
    }

    /// Unmasks (enables) line `n`; call after clearing its source to receive the next event.
    public func unmask(_ n: Int) throws(XDMAError) {
        try check(n)
        state.userLinesEnabled.bitwiseOr(bit(n), ordering: .acquiringAndReleasing)
        bar.write(I.userEnableSet, bit(n))
    }

    /// Lines currently enabled (0x2004).
    public var enabledLines: UInt32 { bar.read(I.userEnable) }
    /// Lines whose source is active and enabled (0x2040).
    public var requests: UInt32 { bar.read(I.userRequest) }
    /// Lines whose source is active (0x2048).
    public var pending: UInt32 { bar.read(I.userPending) }

    /// Waits up to `timeout` for line `n`. Returns when it fired, leaving it masked; throws
    /// ``XDMAError/userInterruptTimeout(_:_:)`` when it did not.
    public func wait(_ n: Int, timeout: Duration) throws(XDMAError) {
        try check(n)
        if try poll(n, timeout: timeout) { return }
        throw .userInterruptTimeout(n, timeout)
    }

    /// Like ``wait(_:timeout:)`` but returns false on timeout (a zero timeout just checks).
    public func poll(_ n: Int, timeout: Duration = .zero) throws(XDMAError) -> Bool {
        try check(n)
        if let router = state.router {
            let ok = try router.waitUser(n, timeoutNanos: timeout.nanoseconds)
            try state.check()
            return ok
        }
        // No interrupts: watch the request register (source AND enable).
        let deadline = Deadline(timeout: timeout)
        var sleepNs: UInt64 = 1_000
        while true {
            let req = bar.read(I.userRequest)
            if req == XDMARegisters.Identifier.deviceLostValue, state.probeLost(I.identifier) {
                throw .deviceLost("while waiting for user interrupt \(n)")
            }
            if req & bit(n) != 0 {
                bar.write(I.userEnableClear, bit(n))
                return true
            }
            if deadline.hasExpired { return false }
            var ts = timespec(tv_sec: 0, tv_nsec: Int(min(sleepNs, max(deadline.remainingNanos, 1))))
            nanosleep(&ts, nil)
            sleepNs = min(sleepNs * 2, 1_000_000)
        }
    }

    /// The vector line `n` is routed to, when interrupts are enabled.
    public func vector(of n: Int) throws(XDMAError) -> Int? {
        try check(n)
        return state.router?.userVector[n]
    }
}
