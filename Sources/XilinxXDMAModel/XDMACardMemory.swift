#if canImport(Glibc)
    import Glibc
#endif

/// The card's AXI-MM memory: one zero-filled allocation that engines DMA into and out of
/// directly, and the bypass BAR maps onto.
final class XDMACardMemory {
    let base: UnsafeMutableRawPointer
    let size: Int

    init(size: Int) {
        // calloc hands large sizes out as fresh zero pages, so unused card memory costs nothing.
        guard let p = calloc(size, 1) else { fatalError("XDMA model: cannot allocate \(size) bytes of card memory") }
        base = p
        self.size = size
    }

    deinit { free(base) }

    /// Whether [address, address + length) lies inside card memory.
    @inline(__always)
    func contains(_ address: UInt64, _ length: Int) -> Bool {
        address <= UInt64(size) && UInt64(length) <= UInt64(size) - address
    }

    /// The card bytes at [address, address + length); the range must be inside.
    @inline(__always)
    func bytes(at address: UInt64, _ length: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + Int(address), count: length)
    }
}
