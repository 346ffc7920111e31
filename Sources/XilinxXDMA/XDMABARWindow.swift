import Busmaster

/// Validated access to the DMA ("control"), AXI4-Lite ("user") or bypass BAR: every offset a
/// caller gives is checked against the BAR size and the access width, with an error saying
/// what is allowed. Register accesses of the DMA BAR must be aligned 32-bit accesses.
public struct XDMABARWindow: Sendable {
    /// What the window is.
    public enum Role: String, Sendable, Hashable, Codable {
        /// The DMA ("control") BAR with the registers of the engines and blocks.
        case dma
        /// AXI4-Lite master: each host access becomes one AXI-Lite access into user logic.
        case user
        /// DMA bypass: host accesses go straight to an AXI-MM master.
        case bypass
    }

    /// The window's role.
    public let role: Role
    /// The mapped BAR.
    public let region: MMIORegion
    let state: XDMADeviceState

    init(role: Role, region: MMIORegion, state: XDMADeviceState) {
        self.role = role
        self.region = region
        self.state = state
    }

    /// BAR index.
    public var bar: Int { region.bar }
    /// Size in bytes.
    public var size: Int { region.size }

    private func check(_ offset: Int, _ width: AccessWidth) throws(XDMAError) {
        try state.check()
        do { try region.validate(offset: offset, width: width) } catch {
            throw .invalidRequest("\(role) BAR \(region.bar): \(error)")
        }
        if role == .user && width == .qword {
            throw .invalidRequest("the AXI4-Lite (user) BAR takes 8-, 16- or 32-bit accesses; a 64-bit access is not allowed")
        }
        if role == .dma && width != .dword {
            throw .invalidRequest("XDMA registers take aligned 32-bit accesses only (got a \(width.bits)-bit access)")
        }
    }

    /// Reads `width` at `offset`.
    public func read(_ width: AccessWidth, at offset: Int) throws(XDMAError) -> UInt64 {
        try check(offset, width)
        return region.read(width, at: offset)
    }

    /// Writes the low `width` bits of `value` at `offset`.
    public func write(_ width: AccessWidth, _ value: UInt64, at offset: Int) throws(XDMAError) {
        try check(offset, width)
        region.write(width, value, at: offset)
    }

    /// Reads 32 bits at `offset`.
    public func read32(at offset: Int) throws(XDMAError) -> UInt32 { UInt32(try read(.dword, at: offset)) }

    /// Writes 32 bits at `offset`.
    public func write32(_ value: UInt32, at offset: Int) throws(XDMAError) { try write(.dword, UInt64(value), at: offset) }

    /// Copies `buffer.count` bytes from the window at `offset` (increment or FIFO mode).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int, width: AccessWidth = .dword, mode: BlockMode = .increment)
        throws(XDMAError)
    {
        try checkBlock(buffer.count, offset, width, mode)
        region.read(into: buffer, at: offset, width: width, mode: mode)
    }

    /// Copies `buffer` into the window at `offset` (increment or FIFO mode).
    public func write(from buffer: UnsafeRawBufferPointer, at offset: Int, width: AccessWidth = .dword, mode: BlockMode = .increment)
        throws(XDMAError)
    {
        try checkBlock(buffer.count, offset, width, mode)
        region.write(from: buffer, at: offset, width: width, mode: mode)
    }

    private func checkBlock(_ count: Int, _ offset: Int, _ width: AccessWidth, _ mode: BlockMode) throws(XDMAError) {
        guard count % width.bytes == 0 else {
            throw .invalidRequest("block length \(count) is not a multiple of the \(width.bytes)-byte access width")
        }
        try check(offset, width)
        if mode == .increment && count > 0 { try check(offset + count - width.bytes, width) }
    }
}
