import Busmaster
import BusmasterLinux
import Testing

/// The IOVA allocation policy: inside the reported ranges, page 0 skipped, A32/A64 pools,
/// alignment and address limits honoured, no overlaps, frees merged.
@Suite("IOVA allocator")
struct IOVAAllocatorTests {
    /// QEMU intel-iommu's ranges: everything below the MSI window and above it, 39 bits.
    let qemuRanges: [ClosedRange<UInt64>] = [0x0...0xFEDF_FFFF, 0xFEF0_0000...0x7F_FFFF_FFFF]

    @Test("page 0 is never handed out")
    func skipsPageZero() throws {
        var a = IOVAAllocator(ranges: [0...0xFFFF])
        let iova = try a.allocate(size: 4096)
        #expect(iova == 0x1000)
        #expect(a.free.first?.lowerBound != 0)
    }

    @Test("64-bit-capable requests come from above 4 GiB, 32-bit ones from below")
    func pools() throws {
        var a = IOVAAllocator(ranges: qemuRanges)
        let wide = try a.allocate(size: 8192)
        #expect(wide >= IOVAAllocator.fourGiB)
        let narrow = try a.allocate(size: 8192, limit: 0xFFFF_FFFF)
        #expect(narrow < IOVAAllocator.fourGiB && narrow >= 0x1000)
        let edu = try a.allocate(size: 4096, limit: 0x0FFF_FFFF)  // edu's default 28-bit mask
        #expect(edu + 4096 - 1 <= 0x0FFF_FFFF)
    }

    @Test("the reserved MSI window is never used")
    func honoursRanges() throws {
        var a = IOVAAllocator(ranges: qemuRanges)
        // Fill the A32 pool right up to the hole with one big request and check the hole stays free.
        let first = try a.allocate(size: 0xFEDF_F000, limit: 0xFFFF_FFFF)
        #expect(first == 0x1000)
        let next = try a.allocate(size: 0x10_0000, limit: 0xFFFF_FFFF)
        #expect(next >= 0xFEF0_0000, "allocated inside the MSI window")
        #expect(next + 0x10_0000 - 1 <= 0xFFFF_FFFF)
    }

    @Test("alignment is honoured", arguments: [4096, 65536, 1 << 21, 1 << 30])
    func alignment(align: Int) throws {
        var a = IOVAAllocator(ranges: qemuRanges)
        _ = try a.allocate(size: 4096)  // disturb the start
        let iova = try a.allocate(size: 12288, alignment: UInt64(align))
        #expect(iova % UInt64(align) == 0)
        let low = try a.allocate(size: 4096, alignment: UInt64(align), limit: 0xFFFF_FFFF)
        #expect(low % UInt64(align) == 0 && low < IOVAAllocator.fourGiB)
    }

    @Test("allocations never overlap and frees merge back")
    func noOverlap() throws {
        var a = IOVAAllocator(ranges: [0...0xFF_FFFF])
        var live: [(UInt64, UInt64)] = []
        var rng = SystemRandomNumberGenerator()
        for round in 0..<400 {
            if !live.isEmpty && (round % 3 == 2) {
                let i = Int.random(in: 0..<live.count, using: &rng)
                try a.release(live.remove(at: i).0)
            } else {
                let size = UInt64(Int.random(in: 1...5, using: &rng) * 4096 - Int.random(in: 0...100, using: &rng))
                let align = UInt64(1) << UInt64(Int.random(in: 12...16, using: &rng))
                guard let iova = try? a.allocate(size: size, alignment: align) else { continue }
                let length = (size + 4095) / 4096 * 4096
                #expect(iova % align == 0)
                for (s, l) in live { #expect(iova + length <= s || s + l <= iova, "overlap with 0x\(String(s, radix: 16))") }
                live.append((iova, length))
            }
        }
        for (s, _) in live { try a.release(s) }
        #expect(a.free == [0x1000..<0x100_0000])
        #expect(a.allocated.isEmpty)
    }

    @Test("exhaustion and bad requests give clear errors")
    func errors() throws {
        var a = IOVAAllocator(ranges: [0...0x3FFF])
        _ = try a.allocate(size: 0x3000)
        #expect {
            try a.allocate(size: 4096)
        } throws: { e in
            guard case BusmasterError.dmaUnavailable(let m) = e else { return false }
            return m.contains("no free IOVA range")
        }
        #expect(throws: BusmasterError.self) { try a.allocate(size: 0) }
        #expect(throws: BusmasterError.self) { try a.allocate(size: 4096, alignment: 3000) }
        #expect(throws: BusmasterError.self) { try a.release(0x2000) }
        var b = IOVAAllocator(ranges: qemuRanges)
        #expect(throws: BusmasterError.self) { try b.allocate(size: 4096, limit: 0xFFF) }  // only page 0 is below the limit
    }

    @Test("a 32-bit pool is kept free when 64-bit space is available")
    func preservesA32() throws {
        var a = IOVAAllocator(ranges: qemuRanges)
        let before = a.freeBelow4GiB
        for _ in 0..<16 { _ = try a.allocate(size: 1 << 20) }
        #expect(a.freeBelow4GiB == before)
    }

    @Test("caller memory maps whole pages and its segment starts at the in-page offset")
    func pageSpan() throws {
        let s = try DMAPageSpan(address: 0x7F00_1234_5678, count: 0x2000, pageSize: 4096)
        #expect(s.pageStart == 0x7F00_1234_5000)
        #expect(s.offset == 0x678)
        #expect(s.length == 0x3000)  // 0x678 + 0x2000 spills into a third page
        let exact = try DMAPageSpan(address: 0x10000, count: 4096, pageSize: 4096)
        #expect(exact.offset == 0 && exact.length == 4096)
        #expect(throws: BusmasterError.self) { try DMAPageSpan(address: 0x1000, count: 0, pageSize: 4096) }
        #expect(throws: BusmasterError.self) { try DMAPageSpan(address: UInt64.max - 10, count: 100, pageSize: 4096) }
        try s.checkAlignment(8, pageSize: 4096)  // 0x678 is 8-aligned
        #expect(throws: BusmasterError.self) { try s.checkAlignment(16, pageSize: 4096) }
        #expect(throws: BusmasterError.self) { try s.checkAlignment(8192, pageSize: 4096) }
        try exact.checkAlignment(1 << 20, pageSize: 4096)  // page-aligned memory can get any IOVA alignment
    }
}
