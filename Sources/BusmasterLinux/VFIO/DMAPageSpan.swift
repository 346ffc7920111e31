import Busmaster

/// The whole pages under a piece of caller memory: what an IOMMU mapping of that memory
/// must cover (mappings are page-granular), and where the memory starts inside it.
///
/// The device can reach the rest of the first and last page too; keep unrelated data out
/// of pages shared with a DMA buffer.
public struct DMAPageSpan: Sendable, Hashable {
    /// Address of the first page.
    public var pageStart: UInt64
    /// Bytes from the first page's start to the end of the last page.
    public var length: UInt64
    /// Offset of the memory's first byte within the first page.
    public var offset: UInt64

    /// The pages under `count` bytes at `address` for pages of `pageSize` (a power of two).
    public init(address: UInt64, count: Int, pageSize: UInt64) throws {
        guard count > 0 else { throw BusmasterError.invalidArgument("cannot map an empty buffer for DMA") }
        guard address <= UInt64.max - UInt64(count), let end = IOVAAllocator.alignUp(address + UInt64(count), pageSize) else {
            throw BusmasterError.invalidArgument("buffer reaches the end of the address space")
        }
        pageStart = address & ~(pageSize - 1)
        offset = address - pageStart
        length = end - pageStart
    }

    /// Checks that a bus address `iova + offset` can be aligned to `alignment` (a power of
    /// two) by choosing a suitably aligned `iova`.
    public func checkAlignment(_ alignment: UInt64, pageSize: UInt64) throws {
        guard offset % min(alignment, pageSize) == 0, alignment <= pageSize || offset == 0 else {
            throw BusmasterError.invalidArgument(
                "caller memory at 0x\(String(pageStart + offset, radix: 16)) cannot get a bus address aligned to \(alignment): "
                    + "its offset within the \(pageSize)-byte page is 0x\(String(offset, radix: 16))")
        }
    }
}
