import Busmaster
import BusmasterSimulation
import CBenchBaselines
import Foundation

/// Row 5: interrupt delivery latency from a model to a waiting driver (blocking and async),
/// against a C eventfd ping-pong between two threads. Both are round trips: the "device"
/// raises, the driver wakes and acknowledges with a register write, the device sees the ack.
enum InterruptLatencyBench {
    /// A minimal device: `fire()` sends MSI 0; a write to BAR 0 offset 0 is the driver's ack.
    final class PingModel: DeviceModel {
        let configuration = ModelConfiguration(
            vendorID: 0x1234, deviceID: 0xBEEF, classCode: 0xFF0000, bars: [ModelBAR(index: 0, size: 4096)],
            msi: ModelMSI(vectors: 1))
        var context: DeviceContext!
        let ack: EventFD
        init() throws { ack = try EventFD() }
        func attach(_ context: DeviceContext) { self.context = context }
        func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 { 0 }
        func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) { ack.signal() }
        func reset() {}
        func fire() { context.signalMSI(vector: 0) }
    }

    static func run(runs: Int) throws -> Row {
        let iterations = 20_000
        let c = Sample.of(runs, unit: "µs round trip") { bench_c_eventfd_pingpong(iterations) / 1000 }
        let blocking = try Sample.of(runs, unit: "µs round trip") { try measure(iterations: iterations, async: false) / 1000 }
        let asyncSample = try Sample.of(runs, unit: "µs round trip") { try measure(iterations: iterations / 4, async: true) / 1000 }
        let ratio = blocking.median / c.median
        return Row(
            id: 5, what: "interrupt delivery latency, model → waiting driver",
            measurements: ["blocking wait": blocking, "async sequence": asyncSample, "C eventfd ping-pong": c],
            ratio: ratio, ratioDefinition: "blocking / C ping-pong", target: "≤ 1.2× (blocking)", met: ratio <= 1.2,
            notes: ["async/C = \(String(format: "%.2f", asyncSample.median / c.median))×"])
    }

    /// Median round-trip nanoseconds.
    static func measure(iterations: Int, async: Bool) throws -> Double {
        let board = SimulatedPlatform(mode: .threaded)
        let model = try PingModel()
        let device = try board.open(board.plug(model))
        let bar = try device.bar(0)
        let irq = try device.enableInterrupts(preferring: [.msi])
        defer { device.close() }
        let done = DispatchSemaphore(value: 0)
        if async {
            Task.detached {
                var n = 0
                for try await _ in irq.events() {
                    bar.write32(1, at: 0)
                    n += 1
                    if n == iterations { break }
                }
                done.signal()
            }
        } else {
            startThread(name: "bench-driver") {
                for _ in 0..<iterations {
                    _ = try? irq.wait(timeout: .seconds(5))
                    bar.write32(1, at: 0)
                }
                done.signal()
            }
        }
        var samples: [Double] = []
        samples.reserveCapacity(iterations)
        for _ in 0..<iterations {
            let t0 = monotonicNanos()
            board.withModelsPaused { model.fire() }
            _ = try model.ack.wait(timeoutNanos: 5_000_000_000, cancel: nil)
            samples.append(Double(monotonicNanos() - t0))
        }
        done.wait()
        samples.sort()
        return samples[samples.count / 2]
    }
}
