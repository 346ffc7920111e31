#if canImport(Glibc)
    import Glibc
#endif
import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMAModel

@Suite("XDMA model: perf counters, credits, halt, user BAR, threaded mode")
struct FeatureTests {
    func counter(_ b: Bench, _ low: Int, _ high: Int) -> UInt64 {
        UInt64(b.read(Sheet.h2c(0) + low)) | UInt64(b.read(Sheet.h2c(0) + high) & 0x3FF) << 32
    }

    @Test("Perf counters: Clear (bit 1), Auto + Run (0x5), data beats and cycles, frozen by Stop in Auto")
    func perfCountersAuto() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(8192, .toDevice)
        b.write(Sheet.h2c(0) + Sheet.perfControl, 0x2)
        b.write(Sheet.h2c(0) + Sheet.perfControl, 0x5)
        #expect(b.read(Sheet.h2c(0) + Sheet.perfControl) == 0x5)  // Clear reads back 0
        b.put(Desc(flags: Sheet.stop, length: 8000, source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        let data = counter(b, Sheet.perfDataLow, Sheet.perfDataHigh)
        let cycles = counter(b, Sheet.perfCyclesLow, Sheet.perfCyclesHigh)
        #expect(data == 250)  // ceil(8000 / 32) beats of the 256-bit datapath
        #expect(cycles >= 313)  // utilisation stays ≤ 0.8
        #expect(b.read(Sheet.h2c(0) + Sheet.perfDataHigh) & 0x1_0000 == 0)
        // Auto: counting stopped when the Stop descriptor completed.
        b.platform.advance(by: .milliseconds(1))
        #expect(counter(b, Sheet.perfCyclesLow, Sheet.perfCyclesHigh) == cycles)
        b.write(Sheet.h2c(0) + Sheet.perfControl, 0x2)
        #expect(counter(b, Sheet.perfDataLow, Sheet.perfDataHigh) == 0)
        #expect(counter(b, Sheet.perfCyclesLow, Sheet.perfCyclesHigh) == 0)
    }

    @Test("Perf cycles follow simulated time × the AXI clock while perf Run and Control.Run are 1")
    func perfCyclesFollowTime() throws {
        var c = XDMAModelConfiguration()
        c.axiClockHz = 100e6
        let b = try Bench(c)
        b.write(Sheet.h2c(0) + Sheet.perfControl, 0x4)  // Run, no Auto
        b.platform.advance(by: .milliseconds(1))
        #expect(counter(b, Sheet.perfCyclesLow, Sheet.perfCyclesHigh) == 0)  // Control.Run is 0
        // Halt the channel so Run does not fetch anything, then count for 2 ms.
        b.write(Sheet.common + 0x14, 0x1)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.platform.advance(by: .milliseconds(2))
        let cycles = counter(b, Sheet.perfCyclesLow, Sheet.perfCyclesHigh)
        #expect(cycles >= 200_000 && cycles < 201_000)
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        let stopped = counter(b, Sheet.perfCyclesLow, Sheet.perfCyclesHigh)
        b.platform.advance(by: .milliseconds(1))
        #expect(counter(b, Sheet.perfCyclesLow, Sheet.perfCyclesHigh) == stopped)
    }

    @Test("Credit mode (0x6024): fetch only as many descriptors as credits posted at SGDMA 0x8C")
    func credits() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        let r = ring.busAddress()
        for i in 0..<4 {
            b.put(Desc(flags: Sheet.completed | (i == 3 ? Sheet.stop : 0), length: 64, source: source.busAddress(), destination: UInt64(64 * i),
                       next: r + UInt64(32 * (i + 1))), in: ring, at: 32 * i)
        }
        b.write(Sheet.common + 0x24, 0x1)
        #expect(b.read(Sheet.common + 0x20) == 0x1)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), r)
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x1)  // waiting for credits, busy
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 0)
        b.write(Sheet.h2cSGDMA(0) + Sheet.credits, 2)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 2)
        #expect(b.read(Sheet.h2cSGDMA(0) + Sheet.credits) == 0)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) & 1 == 1)
        b.write(Sheet.h2cSGDMA(0) + Sheet.credits, 5)
        b.settle()
        #expect(b.read(Sheet.h2c(0) + Sheet.completedCount) == 4)
        #expect(b.read(Sheet.h2cSGDMA(0) + Sheet.credits) == 3)
        #expect(b.read(Sheet.h2c(0) + Sheet.status) == 0x6)
        // Run 1→0 zeroes credits; so does switching credit mode off.
        b.write(Sheet.h2c(0) + Sheet.controlW1C, Sheet.run)
        #expect(b.read(Sheet.h2cSGDMA(0) + Sheet.credits) == 0)
        b.write(Sheet.h2cSGDMA(0) + Sheet.credits, 7)
        #expect(b.read(Sheet.h2cSGDMA(0) + Sheet.credits) == 7)
        b.write(Sheet.common + 0x28, 0x1)
        #expect(b.read(Sheet.common + 0x20) == 0)
        #expect(b.read(Sheet.h2cSGDMA(0) + Sheet.credits) == 0)
        // Credits saturate at 10 bits.
        b.write(Sheet.h2cSGDMA(0) + Sheet.credits, 0x3FF)
        b.write(Sheet.h2cSGDMA(0) + Sheet.credits, 0x3FF)
        #expect(b.read(Sheet.h2cSGDMA(0) + Sheet.credits) == 0x3FF)
    }

    @Test("C2H channels use bit 16 + ch in the SGDMA common block")
    func commonBitsPerDirection() throws {
        let b = try Bench()
        let ring = try b.buffer(4096)
        let target = try b.buffer(4096, .fromDevice)
        b.write(Sheet.common + 0x14, 0x1_0000)  // halt C2H 0 only
        b.put(Desc(flags: Sheet.stop, length: 64, source: 0, destination: target.busAddress()), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), ring.busAddress())
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        b.settle()
        #expect(b.read(Sheet.c2h(0) + Sheet.status) == 0x1)
        b.write(Sheet.common + 0x18, 0x1_0000)
        b.settle()
        #expect(b.read(Sheet.c2h(0) + Sheet.status) == 0x2)
    }

    @Test("User BAR: scratch registers; reads at 0x2000 / 0x3000 are counted and, optionally, destructive")
    func userBAR() throws {
        var c = XDMAModelConfiguration()
        c.userBARReadSideEffects = true
        let b = try Bench(c)
        let user = try b.device.bar(try #require(b.model.userBAR))
        user.write32(0x1234_5678, at: 0x0)
        user.write32(0xAABB_CCDD, at: 0x3C)
        #expect(user.read32(at: 0x0) == 0x1234_5678)
        #expect(user.read32(at: 0x3C) == 0xAABB_CCDD)
        let probe = user.read32(at: 0x2000)
        #expect(probe & 0xFFF0_0000 != 0x1FC0_0000)
        #expect(user.read32(at: 0x0) == 0)  // the side effect
        #expect(b.model.statistics.userBARProbeReads == 1)
        #expect(!b.lints(containing: "blind DMA-BAR probe").isEmpty)
    }

    @Test("Lints name driver bugs: unmapped offsets and a descriptor with reserved length bits")
    func lints() throws {
        let b = try Bench()
        _ = b.read(Sheet.h2c(0) + 0x50)
        #expect(!b.lints(containing: "unmapped H2C0 channel offset +0x50").isEmpty)
        let ring = try b.buffer(4096)
        let source = try b.buffer(4096, .toDevice)
        b.put(Desc(flags: Sheet.stop, length: 0x1000_0040, source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        b.settle()
        #expect(!b.lints(containing: "length bits 31:28").isEmpty)
        #expect(b.model.statistics.bytesHostToCard == 0x40)
    }

    @Test("Threaded mode: a 1 MiB H2C + C2H round trip runs on the device thread")
    func threadedRoundTrip() throws {
        let b = try Bench(mode: .threaded)
        let size = 1 << 20
        let ring = try b.buffer(4096)
        let source = try b.buffer(size, .toDevice)
        let target = try b.buffer(size, .fromDevice)
        b.fill(source, seed: 42)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: UInt32(size), source: source.busAddress(), destination: 0), in: ring, at: 0)
        b.put(Desc(flags: Sheet.stop | Sheet.completed, length: UInt32(size), source: 0, destination: target.busAddress()), in: ring, at: 32)
        b.setFirst(sgdma: Sheet.h2cSGDMA(0), ring.busAddress())
        b.write(Sheet.h2c(0) + Sheet.control, Sheet.h2cControl)
        try waitUntil("H2C done", timeout: .seconds(10)) { b.read(Sheet.h2c(0) + Sheet.status) == 0x6 }
        b.setFirst(sgdma: Sheet.c2hSGDMA(0), ring.busAddress(at: 32))
        b.write(Sheet.c2h(0) + Sheet.control, Sheet.c2hControl)
        try waitUntil("C2H done", timeout: .seconds(10)) { b.read(Sheet.c2h(0) + Sheet.status) == 0x6 }
        #expect(memcmp(source.bytes.baseAddress!, target.bytes.baseAddress!, size) == 0)
    }
}
