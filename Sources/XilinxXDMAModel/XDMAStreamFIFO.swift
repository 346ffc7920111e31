#if canImport(Glibc)
    import Glibc
#endif

/// An AXI4-Stream byte FIFO with packet (tlast) boundaries: the C2H stream source, the
/// H2C → C2H loopback path, and the H2C stream sink. Engines DMA straight into its tail and
/// out of its head; packet ends are kept as absolute byte positions.
final class XDMAStreamFIFO {
    private var storage: UnsafeMutableRawPointer
    private var capacity: Int
    private var head = 0
    /// Bytes buffered.
    private(set) var count = 0
    private var packetEnds: [UInt64] = []
    private var nextEnd = 0
    /// Bytes ever appended / consumed.
    private(set) var totalIn: UInt64 = 0
    private(set) var totalOut: UInt64 = 0

    init(initialCapacity: Int = 64 << 10) {
        capacity = initialCapacity
        guard let p = malloc(initialCapacity) else { fatalError("XDMA model: cannot allocate a stream FIFO") }
        storage = p
    }

    deinit { free(storage) }

    /// Room for `n` more bytes at the tail; returns where they go. Call ``commit(_:)`` after filling.
    func reserveTail(_ n: Int) -> UnsafeMutableRawPointer {
        if head + count + n > capacity {
            if head > 0 {
                memmove(storage, storage + head, count)
                head = 0
            }
            if count + n > capacity {
                let newCapacity = max(capacity * 2, count + n)
                guard let p = realloc(storage, newCapacity) else { fatalError("XDMA model: cannot grow a stream FIFO to \(newCapacity) bytes") }
                storage = p
                capacity = newCapacity
            }
        }
        return storage + head + count
    }

    /// Makes `n` bytes written at the reserved tail part of the FIFO.
    func commit(_ n: Int) {
        count += n
        totalIn += UInt64(n)
    }

    /// Appends `bytes`.
    func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserveTail(bytes.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        commit(bytes.count)
    }

    /// Position (in ``totalIn`` terms) of the last packet end marked.
    private(set) var lastPacketEnd: UInt64 = 0

    /// Marks the end of a packet (tlast) after the last appended byte.
    func markPacketEnd() {
        packetEnds.append(totalIn)
        lastPacketEnd = totalIn
    }

    /// The buffered bytes, oldest first.
    var readable: UnsafeRawPointer { UnsafeRawPointer(storage + head) }

    /// Bytes before the next packet end, or nil when no packet end is buffered.
    var bytesToPacketEnd: Int? {
        nextEnd < packetEnds.count ? Int(packetEnds[nextEnd] - totalOut) : nil
    }

    /// Drops `n` bytes from the head.
    func consume(_ n: Int) {
        head += n
        count -= n
        totalOut += UInt64(n)
        if count == 0 { head = 0 }
    }

    /// Forgets the next packet end (after a reader has reached it).
    func popPacketEnd() {
        nextEnd += 1
        if nextEnd >= 256 && nextEnd * 2 >= packetEnds.count {
            packetEnds.removeFirst(nextEnd)
            nextEnd = 0
        }
    }

    /// Complete packets buffered.
    var packetCount: Int { packetEnds.count - nextEnd }

    /// Removes and returns the oldest complete packet.
    func takePacket() -> [UInt8]? {
        guard let n = bytesToPacketEnd else { return nil }
        let bytes = [UInt8](UnsafeRawBufferPointer(start: readable, count: n))
        consume(n)
        popPacketEnd()
        return bytes
    }

    /// Empties the FIFO.
    func removeAll() {
        head = 0
        totalOut += UInt64(count)
        count = 0
        packetEnds.removeAll(keepingCapacity: true)
        nextEnd = 0
        lastPacketEnd = totalIn
    }
}
