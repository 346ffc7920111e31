import Busmaster

/// A dedicated thread per engine that runs blocking transfers for the async API, so waiting
/// for a DMA never occupies a thread of Swift's cooperative pool. It exits after a couple of
/// idle seconds and restarts on demand.
final class XDMAWorker: @unchecked Sendable {
    private let cond = ConditionLock()
    private var jobs: [@Sendable () -> Void] = []
    private var running = false
    private var stopped = false
    private let name: String

    init(name: String) { self.name = name }

    /// Queues `job`; false when the worker was stopped (device closed).
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let (accepted, startNew): (Bool, Bool) = cond.withLock {
            if stopped { return (false, false) }
            jobs.append(job)
            if running { return (true, false) }
            running = true
            return (true, true)
        }
        guard accepted else { return false }
        cond.broadcast()
        if startNew { startThread(name: name) { [self] in loop() } }
        return true
    }

    private func loop() {
        while true {
            let job: (@Sendable () -> Void)? = cond.withLock {
                while jobs.isEmpty && !stopped {
                    let idleDeadline = monotonicNanos() &+ 2_000_000_000
                    cond.wait(untilMonotonicNanos: idleDeadline)
                    if jobs.isEmpty && monotonicNanos() >= idleDeadline { break }
                }
                if jobs.isEmpty {
                    running = false
                    return nil
                }
                return jobs.removeFirst()
            }
            guard let job else { return }
            job()
        }
    }

    /// Refuses new jobs; queued ones still run (and fail fast on a closed device).
    func stop() {
        cond.withLock { stopped = true }
        cond.broadcast()
    }
}

extension XDMAEngine {
    private func worker() -> XDMAWorker {
        workerLock.withLock {
            if let w = workerStorage { return w }
            let w = XDMAWorker(name: "xdma-\(id)")
            workerStorage = w
            return w
        }
    }

    /// Runs `body` on the engine's worker thread; task cancellation stops the engine and
    /// fails the transfer with ``XDMAError/cancelled(_:)``.
    func runAsync<T: Sendable>(_ body: @escaping @Sendable (XDMACancellation) throws(XDMAError) -> T) async throws(XDMAError) -> T {
        let cancel = XDMACancellation()
        let engine = self
        let result: Result<T, XDMAError> = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, XDMAError>, Never>) in
                let queued = engine.worker().submit {
                    if cancel.isCancelled {
                        continuation.resume(returning: .failure(.cancelled(engine.notStartedReport("cancelled before the transfer started"))))
                        return
                    }
                    do throws(XDMAError) {
                        continuation.resume(returning: .success(try body(cancel)))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
                if !queued { continuation.resume(returning: .failure(.closed)) }
            }
        } onCancel: {
            cancel.cancel()
        }
        return try result.get()
    }

    /// A report for a transfer that never reached the hardware.
    func notStartedReport(_ why: String) -> XDMATransferReport {
        XDMATransferReport(
            engine: id, status: XDMAEngineStatus(raw: 0, direction: direction), control: 0, completedDescriptors: 0, chainDescriptors: 0,
            bytesTransferred: 0, bytesRequested: 0, writeback: nil, elapsed: .zero, engineRecovered: true, diagnosis: why)
    }

    /// Async ``write(_:range:to:options:)``: the wait runs on the engine's worker thread.
    @discardableResult
    public func write(_ buffer: DMABuffer, range: Range<Int>? = nil, to cardAddress: UInt64, options: XDMATransferOptions = .init())
        async throws(XDMAError) -> XDMATransferResult
    {
        try await runAsync { (c) throws(XDMAError) in
            try self.transfer(.h2cMemoryMapped, buffer, range, cardAddress, nil, options, c).0
        }
    }

    /// Async ``read(into:range:from:options:)``.
    @discardableResult
    public func read(into buffer: DMABuffer, range: Range<Int>? = nil, from cardAddress: UInt64, options: XDMATransferOptions = .init())
        async throws(XDMAError) -> XDMATransferResult
    {
        try await runAsync { (c) throws(XDMAError) in
            try self.transfer(.c2hMemoryMapped, buffer, range, cardAddress, nil, options, c).0
        }
    }

    /// Async ``send(_:range:packetLengths:options:)``.
    @discardableResult
    public func send(_ buffer: DMABuffer, range: Range<Int>? = nil, packetLengths: [Int]? = nil, options: XDMATransferOptions = .init())
        async throws(XDMAError) -> XDMATransferResult
    {
        try await runAsync { (c) throws(XDMAError) in
            try self.transfer(.h2cStream, buffer, range, 0, packetLengths, options, c).0
        }
    }

    /// Async ``receive(into:range:options:)``.
    public func receive(into buffer: DMABuffer, range: Range<Int>? = nil, options: XDMATransferOptions = .init())
        async throws(XDMAError) -> XDMAStreamReceiveResult
    {
        try await runAsync { (c) throws(XDMAError) in
            let (result, stream) = try self.transfer(.c2hStream, buffer, range, 0, nil, options, c)
            let s = stream ?? XDMAStreamCollector()
            return XDMAStreamReceiveResult(transfer: result, descriptors: s.descriptors, packets: s.packets)
        }
    }
}

extension XDMAUserInterrupts {
    /// Async ``wait(_:timeout:)``: waits on a dedicated thread, never on the cooperative pool.
    public func wait(_ n: Int, timeout: Duration) async throws(XDMAError) {
        let me = self
        let result: Result<Void, XDMAError> = await withCheckedContinuation { continuation in
            startThread(name: "xdma-user-\(n)") {
                do throws(XDMAError) {
                    try me.wait(n, timeout: timeout)
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        try result.get()
    }
}
