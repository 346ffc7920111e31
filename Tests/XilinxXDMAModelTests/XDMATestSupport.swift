import Busmaster
import BusmasterSimulation
import Testing
import XilinxXDMAModel

/// Raw DMA BAR offsets and values typed in from the chip sheet (xdma.md §2, §3), not taken
/// from the model's declarations: a wrong offset in the model fails these tests.
enum Sheet {
    static func h2c(_ ch: Int) -> Int { 0x0000 + ch * 0x100 }
    static func c2h(_ ch: Int) -> Int { 0x1000 + ch * 0x100 }
    static func h2cSGDMA(_ ch: Int) -> Int { 0x4000 + ch * 0x100 }
    static func c2hSGDMA(_ ch: Int) -> Int { 0x5000 + ch * 0x100 }
    static let irq = 0x2000
    static let config = 0x3000
    static let common = 0x6000
    static let msixTable = 0x8000
    static let msixPBA = 0x8FE0

    // Channel block
    static let identifier = 0x00
    static let control = 0x04
    static let controlW1S = 0x08
    static let controlW1C = 0x0C
    static let status = 0x40
    static let statusRC = 0x44
    static let completedCount = 0x48
    static let alignments = 0x4C
    static let pollWBLow = 0x88
    static let pollWBHigh = 0x8C
    static let intMask = 0x90
    static let intMaskW1S = 0x94
    static let intMaskW1C = 0x98
    static let perfControl = 0xC0
    static let perfCyclesLow = 0xC4
    static let perfCyclesHigh = 0xC8
    static let perfDataLow = 0xCC
    static let perfDataHigh = 0xD0

    // SGDMA block
    static let firstDescLow = 0x80
    static let firstDescHigh = 0x84
    static let firstDescAdjacent = 0x88
    static let credits = 0x8C

    // Control bits
    static let run: UInt32 = 1 << 0
    static let ieDescriptorStopped: UInt32 = 1 << 1
    static let ieDescriptorCompleted: UInt32 = 1 << 2
    static let ieIdleStopped: UInt32 = 1 << 6
    static let pollModeWB: UInt32 = 1 << 26
    static let streamWBDisable: UInt32 = 1 << 27
    /// §2.8 recommended Control, IRQ mode (RUN + all latch enables).
    static let h2cControl: UInt32 = 0x00FF_FE7F
    static let c2hControl: UInt32 = 0x00F8_3E7F
    /// §2.8 recommended 0x90.
    static let h2cMask: UInt32 = 0x00FF_FE3E
    static let c2hMask: UInt32 = 0x00F8_3E3E

    // Descriptor (§3.1)
    static let magic: UInt32 = 0xAD4B_0000
    static let stop: UInt32 = 1 << 0
    static let completed: UInt32 = 1 << 1
    static let eop: UInt32 = 1 << 4
    static func adjacent(_ n: UInt32) -> UInt32 { n << 8 }
}

/// One descriptor as written by hand per §3.1.
struct Desc {
    var flags: UInt32 = 0
    var nextAdjacent: UInt32 = 0
    var length: UInt32
    var source: UInt64
    var destination: UInt64
    var next: UInt64 = 0
    var magic: UInt32 = Sheet.magic
}

/// A stepped simulated board with one XDMA model, opened and bus-mastering.
final class Bench {
    let platform: SimulatedPlatform
    let model: XDMAModel
    let device: PCIDevice
    let bar: MMIORegion
    private var buffers: [DMABuffer] = []

    init(_ configuration: XDMAModelConfiguration = XDMAModelConfiguration(), mode: SimulationMode = .stepped) throws {
        platform = SimulatedPlatform(mode: mode)
        model = try XDMAModel(configuration)
        device = try platform.open(platform.plug(model))
        try device.enable()
        bar = try device.bar(model.dmaBAR)
    }

    deinit { device.close() }

    func read(_ offset: Int) -> UInt32 { bar.read32(at: offset) }
    func write(_ offset: Int, _ value: UInt32) { bar.write32(value, at: offset) }

    /// Runs device work until nothing is scheduled.
    func settle() { platform.runUntilIdle() }

    /// A DMA buffer kept alive for the bench's lifetime.
    func buffer(_ size: Int, _ direction: DMADirection = .bidirectional) throws -> DMABuffer {
        let b = try device.allocateDMABuffer(size: size, direction: direction)
        buffers.append(b)
        return b
    }

    /// Writes descriptor `d` at byte `offset` of `ring`.
    func put(_ d: Desc, in ring: DMABuffer, at offset: Int) {
        let p = ring.bytes
        p.storeBytes(of: (d.magic | Sheet.adjacent(d.nextAdjacent) | d.flags).littleEndian, toByteOffset: offset, as: UInt32.self)
        p.storeBytes(of: d.length.littleEndian, toByteOffset: offset + 4, as: UInt32.self)
        p.storeBytes(of: d.source.littleEndian, toByteOffset: offset + 8, as: UInt64.self)
        p.storeBytes(of: d.destination.littleEndian, toByteOffset: offset + 16, as: UInt64.self)
        p.storeBytes(of: d.next.littleEndian, toByteOffset: offset + 24, as: UInt64.self)
    }

    func word32(_ buffer: DMABuffer, _ offset: Int) -> UInt32 {
        UInt32(littleEndian: buffer.bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Programs the SGDMA first-descriptor registers of an engine block base.
    func setFirst(sgdma base: Int, _ address: UInt64, adjacent: UInt32 = 0) {
        write(base + Sheet.firstDescLow, UInt32(truncatingIfNeeded: address))
        write(base + Sheet.firstDescHigh, UInt32(truncatingIfNeeded: address >> 32))
        write(base + Sheet.firstDescAdjacent, adjacent)
    }

    /// Fills `buffer` with a pattern derived from `seed`.
    func fill(_ buffer: DMABuffer, seed: UInt8, count: Int? = nil) {
        for i in 0..<(count ?? buffer.count) { buffer.bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ Int(seed)) }
    }

    /// Lints that contain `text`.
    func lints(containing text: String) -> [String] { platform.lints.filter { $0.contains(text) } }
}
