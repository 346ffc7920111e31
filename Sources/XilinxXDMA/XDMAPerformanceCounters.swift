import Busmaster

/// One reading of an engine's performance counters (§2.2, §5.9).
public struct XDMAPerformanceSample: Sendable, Hashable, CustomStringConvertible {
    /// AXI clock cycles counted (42 bits).
    public var cycles: UInt64
    /// Cycles that carried valid data (42 bits).
    public var dataBeats: UInt64
    /// The cycle counter hit its maximum.
    public var cyclesMaxed: Bool
    /// The data counter hit its maximum.
    public var dataMaxed: Bool

    /// Creates a sample.
    public init(cycles: UInt64, dataBeats: UInt64, cyclesMaxed: Bool, dataMaxed: Bool) {
        self.cycles = cycles
        self.dataBeats = dataBeats
        self.cyclesMaxed = cyclesMaxed
        self.dataMaxed = dataMaxed
    }

    /// Data beats per cycle (0…1), the "duty" AMD's `performance` tool prints.
    public var utilisation: Double { cycles == 0 ? 0 : Double(dataBeats) / Double(cycles) }

    /// Bytes per second for a datapath of `datapathBits` at an AXI clock of `axiClockHz`
    /// (the clock is not readable from the device; the caller supplies it).
    public func bytesPerSecond(datapathBits: Int, axiClockHz: Double) -> Double {
        utilisation * Double(datapathBits / 8) * axiClockHz
    }

    /// A readable one-line summary.
    public var description: String {
        "cycles \(cycles)\(cyclesMaxed ? " (maxed)" : ""), data \(dataBeats)\(dataMaxed ? " (maxed)" : ""), "
            + "utilisation \((utilisation * 1000).rounded() / 1000)"
    }
}

/// An engine's hardware performance counters (PG names: Auto = bit 0, Clear = bit 1, Run = bit 2).
public struct XDMAPerformanceCounters: Sendable {
    /// The engine.
    public let engine: XDMAEngineID
    let bar: MMIORegion
    let registers: XDMAEngineRegisters
    private typealias P = XDMARegisters.PerformanceControl
    private typealias H = XDMARegisters.PerformanceHigh

    init(engine: XDMAEngineID, bar: MMIORegion, registers: XDMAEngineRegisters) {
        self.engine = engine
        self.bar = bar
        self.registers = registers
    }

    /// Zeroes both counters (Clear), then arms them (Run), with Auto when `auto`: counting
    /// then stops when a Stop descriptor completes and restarts from 0 at the next Run edge.
    /// This writes 0x2 then 0x5, the sequence AMD's tools use.
    public func start(auto: Bool = true) {
        bar.write(registers.performanceControl, P.clear.mask)
        bar.write(registers.performanceControl, P.run.mask | (auto ? P.auto.mask : 0))
    }

    /// Zeroes both counters without changing Auto/Run.
    public func clear() {
        let keep = bar.read(registers.performanceControl) & (P.run.mask | P.auto.mask)
        bar.write(registers.performanceControl, keep | P.clear.mask)
    }

    /// Disarms the counters (they keep their values).
    public func stop() { bar.write(registers.performanceControl, 0) }

    /// Whether the counters are armed.
    public var isRunning: Bool { P.run.isSet(in: bar.read(registers.performanceControl)) }

    /// Reads both 42-bit counters and their maxed flags.
    public func sample() -> XDMAPerformanceSample {
        func counter(_ lo: Register<UInt32>, _ hi: Register<UInt32>) -> (UInt64, Bool) {
            let low = bar.read(lo)
            let high = bar.read(hi)
            return (UInt64(H.countHigh.extract(from: high)) << 32 | UInt64(low), H.maxed.isSet(in: high))
        }
        let (c, cm) = counter(registers.performanceCyclesLow, registers.performanceCyclesHigh)
        let (d, dm) = counter(registers.performanceDataLow, registers.performanceDataHigh)
        return XDMAPerformanceSample(cycles: c, dataBeats: d, cyclesMaxed: cm, dataMaxed: dm)
    }
}
