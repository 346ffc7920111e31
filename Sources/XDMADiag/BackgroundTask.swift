import Busmaster

/// Runs a closure on its own thread and lets the caller wait for its result with a timeout
/// (used to keep a C2H stream receive posted while H2C sends, so the loopback never stalls).
final class BackgroundTask<T: Sendable>: @unchecked Sendable {
    private let cond = ConditionLock()
    private var result: Result<T, any Error>?

    /// Starts `body` on a new thread named `name`.
    init(name: String, _ body: @escaping @Sendable () throws -> T) {
        startThread(name: name) { [self] in
            let r = Result { try body() }
            cond.withLock { result = r }
            cond.broadcast()
        }
    }

    /// Waits up to `timeout` for the result (rethrowing the closure's error).
    func wait(timeout: Duration, what: String) throws -> T {
        let deadline = monotonicNanos() &+ timeout.nanoseconds
        let r: Result<T, any Error>? = cond.withLock {
            while result == nil && monotonicNanos() < deadline { _ = cond.wait(untilMonotonicNanos: deadline) }
            return result
        }
        guard let r else { throw XDMADiagError.timeout("\(what) did not finish within \(timeout)") }
        return try r.get()
    }
}
