import Busmaster

/// How an XDMA model instance is built: identity, engines, widths, BAR layout, interrupt
/// resources and the behaviour knobs the chip sheet leaves open (§4.8.9 and the (inf) notes).
///
/// Defaults give a 10EE:903F card with one memory-mapped H2C and one C2H engine, a 256-bit
/// datapath at 250 MHz, 16 MiB of card memory, 16 user interrupts, 32 MSI-X vectors and the
/// AMD example-design BARs (AXI-Lite BAR 0, DMA BAR 1, bypass BAR 2, 32-bit).
public struct XDMAModelConfiguration: Sendable, Hashable {
    /// The AXI side of one engine.
    public enum Interface: String, Sendable, Hashable, CaseIterable {
        /// AXI4 memory-mapped: the engine moves data to or from card memory.
        case memoryMapped
        /// AXI4-Stream: H2C feeds a stream sink (or the loopback), C2H drains a stream source.
        case stream
    }

    /// Which functions the IP exposes, and so which BARs exist (§1.2).
    public enum BARLayout: String, Sendable, Hashable, CaseIterable {
        /// DMA BAR only.
        case dmaOnly
        /// AXI-Lite (user) BAR, then the DMA BAR.
        case liteAndDMA
        /// AXI-Lite, DMA and bypass BARs (the AMD example design).
        case liteDMAAndBypass
        /// DMA BAR, then the bypass BAR.
        case dmaAndBypass
    }

    /// What an engine does on an error whose Control ie group is 0 (§4.1; the PG is silent).
    public enum ErrorPolicy: String, Sendable, Hashable, CaseIterable {
        /// Busy stays 1 and the completed count freezes until Run is cleared (the field symptom).
        case hang
        /// The engine stops as on an enabled error, but latches no status bit.
        case stop
        /// The error is dropped and the descriptor completes (fetch errors still stop the engine).
        case ignore
    }

    /// Which PCIe error an H2C data read of an unmapped host address reports (§4.7).
    public enum UnmappedReadError: String, Sendable, Hashable, CaseIterable {
        /// Unsupported Request: Status bit 9.
        case unsupportedRequest
        /// Completer Abort: Status bit 10.
        case completerAbort
    }

    // MARK: Identity

    /// PCI vendor ID (default 0x10EE).
    public var vendorID: UInt16 = 0x10EE
    /// PCI device ID (default 0x903F, the one libxdma's test scripts assume).
    public var deviceID: UInt16 = 0x903F
    /// PCI subsystem vendor ID.
    public var subsystemVendorID: UInt16 = 0x10EE
    /// PCI subsystem ID.
    public var subsystemID: UInt16 = 0x0007
    /// 24-bit PCI class code (default 0x058000, memory controller / other).
    public var classCode: UInt32 = 0x05_8000
    /// PCI revision ID.
    public var revision: UInt8 = 0
    /// IP version byte in every identifier (bits 7:0; 6 = 2017.1 and later).
    public var ipVersion: UInt8 = 6
    /// The config block's System ID (0x3010, 15:0).
    public var systemID: UInt16 = 0xFF01

    // MARK: Engines

    /// H2C engines by channel (0–4 entries), each memory-mapped or stream.
    public var h2cEngines: [Interface] = [.memoryMapped]
    /// C2H engines by channel (0–4 entries), each memory-mapped or stream.
    public var c2hEngines: [Interface] = [.memoryMapped]
    /// AXI datapath width in bits: 64, 128, 256 or 512.
    public var datapathWidthBits = 256
    /// The Alignments register value (address alignment 23:16, length granularity 15:8, address bits 7:0).
    public var alignments: UInt32 = 0x0001_0140
    /// Card (AXI-MM) memory in bytes; AXI accesses past the end get DECERR.
    public var cardMemorySize = 16 << 20

    // MARK: Streams

    /// H2C stream channel n feeds C2H stream channel n (AMD's loopback example design).
    /// When false, or when C2H channel n is not a stream engine, H2C data goes to the sink queue.
    public var streamLoopback = true
    /// Bytes an H2C stream may buffer in the loopback FIFO or sink before it is back-pressured.
    public var streamBufferLimit = 4 << 20
    /// When true, the H2C stream sink counts data and throws it away (for benchmarks).
    public var discardsStreamSink = false
    /// Whether an H2C-ST descriptor length that is not a multiple of the datapath width raises
    /// invalid_length (the two PG texts conflict, §3.2; default: allowed, partial last beat).
    public var h2cStreamRequiresWidthMultiple = false

    // MARK: Interrupts

    /// User interrupt lines usr_irq_req[0..<n] (0–16).
    public var userInterruptCount = 16
    /// MSI-X table size (0 = no MSI-X capability; at most 32, §2.7).
    public var msixVectors = 32
    /// MSI vectors offered (0 = no MSI capability; else 1, 2, 4, 8, 16 or 32).
    public var msiVectors = 32
    /// Interrupt pin (0 = none, 1 = INTA).
    public var interruptPin: UInt8 = 1

    // MARK: BARs

    /// Which BARs exist.
    public var barLayout: BARLayout = .liteDMAAndBypass
    /// 64-bit BARs (indices 0 / 2 / 4) instead of 32-bit ones (0 / 1 / 2).
    public var uses64BitBARs = false
    /// Size of the AXI-Lite BAR (a power of two ≥ 0x4000).
    public var userBARSize = 1 << 20
    /// Size of the bypass BAR (a power of two); nil = the card memory size rounded up to one,
    /// at most 16 MiB for 32-bit BARs (the simulated 32-bit MMIO window is small). Offset n
    /// maps card address n; the part of the BAR past card memory reads 0.
    public var bypassBARSize: Int? = nil
    /// Reads at user BAR 0x2000 / 0x3000 have a side effect (they clear the scratch
    /// registers), catching drivers that probe every BAR blindly (§1.3, #250).
    public var userBARReadSideEffects = false

    // MARK: PCIe and AXI

    /// PCIe link generation (1–4) and width, for the PCIe capability.
    public var linkSpeed = 3
    /// PCIe link width in lanes.
    public var linkWidth = 16
    /// Effective max payload size code in 0x3008 (0 = 128 B … 5 = 4096 B).
    public var maxPayloadCode = 1
    /// Effective max read request size code in 0x300C.
    public var maxReadRequestCode = 2
    /// AXI clock in Hz for the perf cycle counter (250 MHz matches Gen3 x8 at 256 bits).
    public var axiClockHz = 250_000_000.0
    /// Upper bound on data beats / cycles the perf counters report (the throttle, §4.6).
    public var perfMaxUtilisation = 0.8

    // MARK: Behaviour knobs

    /// What an error does when its ie group in Control is 0.
    public var errorPolicyWhenDisabled: ErrorPolicy = .hang
    /// A descriptor-fetch error also sets magic_stopped (Status 0x00080010 as seen on hardware, [FS]).
    public var fetchErrorSetsMagicStopped = true
    /// Which error an H2C data read of an unmapped host address reports.
    public var unmappedDataReadError: UnmappedReadError = .unsupportedRequest
    /// Poll-mode writeback additionally requires Control bit 2 (the strict reading of PG, §3.3).
    public var pollWritebackRequiresCompletedEnable = false
    /// When an engine stops on an error with Control bit 26 set, write the WB word with bit 31.
    public var writebackOnErrorStop = true

    // MARK: Simulation pacing

    /// Most bytes one engine moves per scheduled event (bounds how long the platform lock is held).
    public var bytesPerEvent = 256 << 10
    /// Most descriptors one engine completes per scheduled event.
    public var descriptorsPerEvent = 64
    /// Per-engine data rate in bytes per second of simulated time; nil = as fast as possible.
    public var engineBytesPerSecond: Double? = nil
    /// Entries kept in the event log (oldest dropped first; 0 = no log).
    public var eventLogCapacity = 4096

    /// The default configuration.
    public init() {}

    /// A stream-loopback card with `channels` H2C-ST and C2H-ST engines.
    public static func streamLoopback(channels: Int = 1) -> XDMAModelConfiguration {
        var c = XDMAModelConfiguration()
        c.h2cEngines = Array(repeating: .stream, count: channels)
        c.c2hEngines = Array(repeating: .stream, count: channels)
        return c
    }

    /// The bypass BAR size used when ``bypassBARSize`` is nil.
    var defaultBypassBARSize: Int {
        var p = 16
        while p < cardMemorySize { p <<= 1 }
        return uses64BitBARs ? p : min(p, 16 << 20)
    }

    /// Datapath width in bytes.
    var datapathBytes: Int { datapathWidthBits / 8 }

    /// The 0x3018 code for the datapath width.
    var datapathWidthCode: UInt32 {
        switch datapathWidthBits {
        case 64: return 0
        case 128: return 1
        case 256: return 2
        default: return 3
        }
    }

    /// Throws a message naming the allowed values for the first setting that is out of range.
    public func validate() throws {
        func bad(_ what: String) -> BusmasterError { .invalidArgument("XDMA model: \(what)") }
        func isPowerOfTwo(_ v: Int) -> Bool { v > 0 && v & (v - 1) == 0 }
        guard (0...4).contains(h2cEngines.count) else { throw bad("h2cEngines must have 0–4 entries (got \(h2cEngines.count))") }
        guard (0...4).contains(c2hEngines.count) else { throw bad("c2hEngines must have 0–4 entries (got \(c2hEngines.count))") }
        guard [64, 128, 256, 512].contains(datapathWidthBits) else {
            throw bad("datapathWidthBits must be 64, 128, 256 or 512 (got \(datapathWidthBits))")
        }
        guard cardMemorySize > 0, cardMemorySize <= 1 << 40 else {
            throw bad("cardMemorySize must be 1 byte … 1 TiB (got \(cardMemorySize))")
        }
        guard (0...XDMAModelRegisters.IRQ.maxUserInterrupts).contains(userInterruptCount) else {
            throw bad("userInterruptCount must be 0–16 (got \(userInterruptCount))")
        }
        guard (0...XDMAModelRegisters.MSIX.maxEntries).contains(msixVectors) else {
            throw bad("msixVectors must be 0–32 (got \(msixVectors))")
        }
        guard msiVectors == 0 || (isPowerOfTwo(msiVectors) && msiVectors <= 32) else {
            throw bad("msiVectors must be 0, 1, 2, 4, 8, 16 or 32 (got \(msiVectors))")
        }
        guard interruptPin <= 4 else { throw bad("interruptPin must be 0 (none) … 4 (INTD) (got \(interruptPin))") }
        guard isPowerOfTwo(userBARSize), userBARSize >= XDMAModelUserBAR.minimumSize else {
            throw bad("userBARSize must be a power of two ≥ 0x4000 (got 0x\(String(userBARSize, radix: 16)))")
        }
        if let b = bypassBARSize {
            guard isPowerOfTwo(b), b >= 16 else { throw bad("bypassBARSize must be a power of two ≥ 16 (got \(b))") }
            if !uses64BitBARs && b > 1 << 31 { throw bad("a 32-bit bypass BAR can be at most 2 GiB (got \(b))") }
        }
        guard (1...4).contains(linkSpeed) else { throw bad("linkSpeed must be 1–4 (got \(linkSpeed))") }
        guard [1, 2, 4, 8, 16].contains(linkWidth) else { throw bad("linkWidth must be 1, 2, 4, 8 or 16 (got \(linkWidth))") }
        guard (0...5).contains(maxPayloadCode) else { throw bad("maxPayloadCode must be 0–5 (got \(maxPayloadCode))") }
        guard (0...5).contains(maxReadRequestCode) else { throw bad("maxReadRequestCode must be 0–5 (got \(maxReadRequestCode))") }
        guard axiClockHz > 0 else { throw bad("axiClockHz must be > 0 (got \(axiClockHz))") }
        guard perfMaxUtilisation > 0, perfMaxUtilisation <= 1 else {
            throw bad("perfMaxUtilisation must be in (0, 1] (got \(perfMaxUtilisation))")
        }
        guard bytesPerEvent >= 64 else { throw bad("bytesPerEvent must be ≥ 64 (got \(bytesPerEvent))") }
        guard descriptorsPerEvent >= 1 else { throw bad("descriptorsPerEvent must be ≥ 1 (got \(descriptorsPerEvent))") }
        guard streamBufferLimit >= 64 else { throw bad("streamBufferLimit must be ≥ 64 (got \(streamBufferLimit))") }
        if let r = engineBytesPerSecond, !(r > 0) { throw bad("engineBytesPerSecond must be > 0 or nil (got \(r))") }
        guard eventLogCapacity >= 0 else { throw bad("eventLogCapacity must be ≥ 0 (got \(eventLogCapacity))") }
    }
}
