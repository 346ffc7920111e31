import Busmaster
import BusmasterSimulation
import EduModel
import Testing

/// DMA buffers, address-width limits, S/G locking and transactions on the simulated IOMMU.
@Suite struct DMAMemoryTests {
    func device(fragment: Bool = true) throws -> (SimulatedPlatform, PCIDevice) {
        let p = SimulatedPlatform(mode: .stepped, fragmentsScatterGather: fragment)
        let a = p.plug(EduModel())
        return (p, try p.open(a))
    }

    @Test func addressWidthLimitsAreHonoured() throws {
        let (_, d) = try device()
        let wide = try d.allocateDMABuffer(size: 8192, direction: .toDevice)
        #expect(wide.busAddress() >= 1 << 32, "64-bit masters get addresses above 4 GiB first")
        let a32 = try d.allocateDMABuffer(size: 8192, direction: .toDevice, constraints: DMAConstraints(addressBits: 32))
        #expect(a32.busAddress() + 8192 <= 1 << 32)
        let a28 = try d.allocateDMABuffer(size: 8192, direction: .toDevice, constraints: DMAConstraints(addressBits: 28))
        #expect(a28.busAddress() + 8192 <= 1 << 28)
        #expect(a28.busAddress() >= 4096, "page 0 is never handed out")
        let aligned = try d.allocateDMABuffer(size: 100, direction: .toDevice, constraints: DMAConstraints(alignment: 1 << 16))
        #expect(aligned.busAddress() % (1 << 16) == 0)
        #expect(aligned.isContiguous && aligned.count == 100)
    }

    @Test func invalidRequestsAreRejected() throws {
        let (_, d) = try device()
        #expect(throws: BusmasterError.self) { try d.allocateDMABuffer(size: 0, direction: .toDevice) }
        #expect(throws: BusmasterError.self) {
            try d.allocateDMABuffer(size: 64, direction: .toDevice, constraints: DMAConstraints(alignment: 3))
        }
        #expect(throws: BusmasterError.self) {
            try d.allocateDMABuffer(size: 1 << 30, direction: .toDevice, constraints: DMAConstraints(addressBits: 20))
        }
    }

    @Test func lockedCallerMemoryGetsScatterGatherSegments() throws {
        let (_, d) = try device()
        let count = 3 * 4096 + 100
        let mem = UnsafeMutableRawBufferPointer.allocate(byteCount: count + 200, alignment: 4096)
        defer { mem.deallocate() }
        let window = UnsafeMutableRawBufferPointer(rebasing: mem[200..<200 + count])
        let buf = try d.lockDMABuffer(window, direction: .bidirectional)
        #expect(buf.isCallerMemory && buf.count == count)
        #expect(buf.segments.count == 4)
        #expect(buf.segments.map(\.length).reduce(0, +) == count)
        #expect(buf.segments[0].length == 4096 - 200)
        #expect(buf.segments.map(\.bufferOffset) == [0, 3896, 7992, 12088])
        // Adjacent pages are not bus-adjacent (the platform fragments S/G).
        #expect(buf.segments[1].busAddress != buf.segments[0].busAddress + UInt64(buf.segments[0].length))
        #expect(buf.busAddress(at: 3896 + 5) == buf.segments[1].busAddress + 5)
        let sub = buf.segments(in: 4000..<8000)
        #expect(sub.map(\.length) == [3992, 8])
    }

    @Test func transactionSplitsByElementSizeBoundaryAndTransferSize() throws {
        let (_, d) = try device(fragment: false)
        let buf = try d.allocateDMABuffer(size: 64 * 1024, direction: .toDevice, constraints: DMAConstraints(alignment: 4096))
        var t = try DMATransaction(
            buffer: buf, limits: DMATransferLimits(maxTransferSize: 20_000, maxElementSize: 6000, maxElements: 8, alignment: 4, boundary: 8192))
        var transfers: [DMATransfer] = []
        while let tr = t.nextTransfer() {
            transfers.append(tr)
            for e in tr.elements {
                #expect(e.length <= 6000)
                #expect(e.busAddress / 8192 == (e.busAddress + UInt64(e.length) - 1) / 8192, "element crosses the boundary")
                #expect(e.busAddress % 4 == 0)
            }
            #expect(tr.length <= 20_000)
            #expect(tr.elements.map(\.length).reduce(0, +) == tr.length)
            if try t.complete(tr) == .finished { break }
        }
        #expect(t.isComplete && t.bytesTransferred == 64 * 1024)
        #expect(transfers.map(\.length).reduce(0, +) == 64 * 1024)
        #expect(transfers.count == 4)
        #expect(transfers.last?.bufferOffset == 60_000)
    }

    @Test func transactionTracksPartialCompletionAndErrors() throws {
        let (_, d) = try device()
        let buf = try d.allocateDMABuffer(size: 10_000, direction: .toDevice)
        var t = try DMATransaction(buffer: buf, range: 1000..<9000, limits: DMATransferLimits(maxTransferSize: 4096))
        let maybeFirst = t.nextTransfer()
        let first = try #require(maybeFirst)
        let again = t.nextTransfer()
        #expect(again == first, "the outstanding transfer is re-offered until completed")
        #expect(try t.complete(first, bytes: 1000) == .more)
        #expect(t.bytesTransferred == 1000)
        let maybeSecond = t.nextTransfer()
        let second = try #require(maybeSecond)
        #expect(second.bufferOffset == 2000)
        #expect(throws: BusmasterError.self) { try t.complete(first) }
        #expect(throws: BusmasterError.self) { try t.complete(second, bytes: second.length + 1) }
        #expect(throws: BusmasterError.self) {
            try DMATransaction(buffer: buf, range: 0..<20_000, limits: DMATransferLimits())
        }
        let odd = try d.allocateDMABuffer(size: 4096, direction: .toDevice)
        #expect(throws: BusmasterError.self) {
            try DMATransaction(buffer: odd, range: 2..<100, limits: DMATransferLimits(alignment: 4))
        }
    }
}
