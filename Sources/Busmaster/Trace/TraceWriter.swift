#if canImport(Glibc)
    import Glibc
#endif

/// Where a recorder puts the events it records: a file or memory.
///
/// The recorder calls ``begin(_:)`` once, then ``append(_:)`` per event, from one thread at
/// a time. ``append(_:)`` cannot fail (it runs inside register accesses); writers keep the
/// first I/O error and report it from ``flush()`` and ``close()``.
public protocol TraceWriter: AnyObject, Sendable {
    /// Starts the trace of `device` (writes the header lines).
    func begin(_ device: TraceDevice)
    /// Adds one event.
    func append(_ event: TraceEvent)
    /// Pushes buffered lines to their destination; throws the first error seen so far.
    func flush() throws
    /// Flushes and releases the destination; throws the first error seen. Idempotent.
    func close() throws
}

/// Collects a trace in memory.
public final class TraceMemoryWriter: TraceWriter, @unchecked Sendable {
    private let lock = Lock()
    private var device: TraceDevice?
    private var events: [TraceEvent] = []
    private let fileName: String

    /// Creates an empty writer; `fileName` names the trace in messages.
    public init(fileName: String = "<memory>") { self.fileName = fileName }

    /// Starts the trace of `device`.
    public func begin(_ device: TraceDevice) { lock.withLock { self.device = device } }
    /// Adds one event.
    public func append(_ event: TraceEvent) { lock.withLock { events.append(event) } }
    /// Writes buffered lines; throws the first error seen.
    public func flush() throws {}
    /// Flushes and closes; throws the first error seen. Idempotent.
    public func close() throws {}

    /// The events written so far (nil before ``begin(_:)``).
    public var trace: Trace? {
        lock.withLock { device.map { Trace(device: $0, events: events, fileName: fileName) } }
    }
}

/// Writes a trace file, buffered, flushing at least every ``flushInterval`` lines and on
/// ``flush()`` and ``close()``.
public final class TraceFileWriter: TraceWriter, @unchecked Sendable {
    /// The file being written.
    public let path: String
    /// Lines between flushes.
    public let flushInterval: Int
    private let lock = Lock()
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var linesSinceFlush = 0
    private var firstError: BusmasterError?

    /// Creates (or truncates) `path`. Throws a ``BusmasterError/systemCall(_:errno:context:)``
    /// naming the file when it cannot be created.
    public init(path: String, flushInterval: Int = 256) throws {
        guard flushInterval >= 1 else { throw BusmasterError.invalidArgument("trace flush interval must be ≥ 1 line") }
        self.path = path
        self.flushInterval = flushInterval
        self.fd = try TextFile.openForWriting(path: path, what: "trace file")
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        if fd >= 0 {
            try? writeBuffer()
            Glibc.close(fd)
        }
    }

    /// Starts the trace of `device`.
    public func begin(_ device: TraceDevice) {
        lock.withLock {
            for l in TraceFormat.headerLines(device) { add(l) }
        }
    }

    /// Adds one event.
    public func append(_ event: TraceEvent) {
        lock.withLock {
            for l in TraceFormat.lines(of: event) { add(l) }
            if linesSinceFlush >= flushInterval || buffer.count >= 1 << 16 {
                do { try writeBuffer() } catch let e as BusmasterError { if firstError == nil { firstError = e } } catch {}
            }
        }
    }

    /// Writes buffered lines; throws the first error seen.
    public func flush() throws {
        try lock.withLock {
            if let e = firstError { throw e }
            try writeBuffer()
        }
    }

    /// Flushes and closes; throws the first error seen. Idempotent.
    public func close() throws {
        try lock.withLock {
            guard fd >= 0 else {
                if let e = firstError { throw e }
                return
            }
            defer {
                Glibc.close(fd)
                fd = -1
            }
            if let e = firstError { throw e }
            do { try writeBuffer() } catch let e as BusmasterError {
                firstError = e
                throw e
            }
        }
    }

    private func add(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(UInt8(ascii: "\n"))
        linesSinceFlush += 1
    }

    private func writeBuffer() throws {
        linesSinceFlush = 0
        guard fd >= 0, !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try buffer.withUnsafeBytes { try TextFile.writeAll(fd: fd, $0, path: path, what: "trace file") }
    }
}
