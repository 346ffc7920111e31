import Busmaster

/// Errors specific to the edu device.
public enum EduError: Error, Equatable, CustomStringConvertible {
    /// The identification register does not read `0x......ed`.
    case notAnEdu(identification: UInt32)
    /// A DMA request that does not fit the device buffer (see ``EduRegisters/deviceBufferUsableEnd``).
    case dmaOutOfRange(offset: Int, count: Int)

    public var description: String {
        switch self {
        case .notAnEdu(let id):
            return "not an edu device: identification register reads 0x\(String(id, radix: 16)) (expected 0xRRrr00ed)"
        case .dmaOutOfRange(let offset, let count):
            return "DMA of \(count) bytes at device-buffer offset \(offset) does not fit the device buffer "
                + "(need count > 0 and offset + count ≤ \(EduRegisters.deviceBufferUsableEnd): QEMU 7.2 aborts on a transfer ending at 4096)"
        }
    }
}

/// A driver for QEMU's edu device: identification, liveness, factorial, interrupts and DMA.
///
/// The same code runs on the simulated edu, on a real edu through VFIO or sysfs+UIO, under
/// the trace recorder and against a trace replay.
public final class EduDevice: @unchecked Sendable {
    typealias R = EduRegisters

    /// The PCI device.
    public let device: PCIDevice
    /// BAR 0.
    public let registers: MMIORegion
    /// Enabled interrupts (nil until ``enableInterrupts(preferring:)``; kind `.polling` polls).
    public private(set) var interrupts: Interrupts?
    /// How long waits for the device may take.
    public var timeout: Duration = .seconds(5)
    private let statusLock = Lock()
    private var acknowledged: UInt32 = 0

    /// Opens the driver on `device`: checks the identification register and enables memory
    /// decoding and bus mastering.
    public init(device: PCIDevice) throws {
        self.device = device
        self.registers = try device.bar(0)
        let id = registers.read(R.identification)
        if id == 0xFFFF_FFFF { throw BusmasterError.deviceLost("edu at \(device.address)") }
        guard id & 0xFF == 0xED else { throw EduError.notAnEdu(identification: id) }
        try device.enable(memory: true, busMaster: true)
    }

    /// Identification as (major, minor).
    public var version: (major: Int, minor: Int) {
        let id = registers.read(R.identification)
        return (Int(id >> 24), Int(id >> 16 & 0xFF))
    }

    /// Writes `value` to the liveness register and returns what it reads back (`~value` when alive).
    public func liveness(_ value: UInt32) -> UInt32 {
        registers.write(R.liveness, value)
        return registers.read(R.liveness)
    }

    /// Enables interrupts (default MSI, then INTx) and installs the acknowledge step, which
    /// reads IRQ_STATUS and writes it back to IRQ_ACK before the platform unmasks INTx.
    @discardableResult
    public func enableInterrupts(preferring kinds: [InterruptKind] = [.msi, .intx]) throws -> Interrupts {
        let irq = try device.enableInterrupts(preferring: kinds, vectors: 1)
        let regs = registers
        irq.acknowledge = { [weak self] _ in
            let status = regs.read(R.interruptStatus)
            regs.write(R.interruptAcknowledge, status)
            self?.statusLock.withLock { self?.acknowledged |= status }
        }
        interrupts = irq
        return irq
    }

    /// Waits for the next interrupt and returns the IRQ_STATUS bits the acknowledge step cleared.
    public func waitForInterrupt() throws -> UInt32 {
        guard let irq = interrupts, irq.kind != .polling else {
            throw BusmasterError.interruptsUnavailable("edu interrupts are not enabled; call enableInterrupts() first")
        }
        statusLock.withLock { acknowledged = 0 }
        _ = try irq.wait(vector: 0, timeout: timeout)
        return statusLock.withLock { acknowledged }
    }

    /// Raises interrupt `value` through IRQ_RAISE and waits for it; returns the acknowledged status.
    public func raiseAndWait(_ value: UInt32) throws -> UInt32 {
        registers.write(R.interruptRaise, value)
        return try waitForInterrupt()
    }

    /// Computes `n!` on the device (32-bit, wraps above 12!). Completion by interrupt when
    /// interrupts are enabled, else by polling STATUS.
    public func factorial(_ n: UInt32) throws -> UInt32 {
        let useIRQ = interrupts.map { $0.kind != .polling } ?? false
        registers.write(R.status, useIRQ ? R.statusFactorialInterrupt.mask : 0)
        registers.write(R.factorial, n)
        if useIRQ {
            let s = try waitForInterrupt()
            guard s & R.factorialDone != 0 else {
                throw BusmasterError.unsupported("factorial interrupt reported status 0x\(String(s, radix: 16)) without the done bit")
            }
        } else {
            try waitUntil("edu factorial of \(n)", timeout: timeout) {
                let status = registers.read(R.status)
                if status == 0xFFFF_FFFF { throw BusmasterError.deviceLost("edu STATUS reads all-ones") }
                return !R.statusComputing.isSet(in: status)
            }
        }
        return registers.read(R.factorial)
    }

    /// Copies `count` bytes from host `buffer` (at `bufferOffset`) into the device buffer at
    /// `deviceOffset`.
    public func copyToDevice(from buffer: DMABuffer, bufferOffset: Int = 0, deviceOffset: Int = 0, count: Int) throws {
        try transfer(buffer, bufferOffset: bufferOffset, deviceOffset: deviceOffset, count: count, toRAM: false)
    }

    /// Copies `count` bytes from the device buffer at `deviceOffset` into host `buffer`.
    public func copyFromDevice(into buffer: DMABuffer, bufferOffset: Int = 0, deviceOffset: Int = 0, count: Int) throws {
        try transfer(buffer, bufferOffset: bufferOffset, deviceOffset: deviceOffset, count: count, toRAM: true)
    }

    private func transfer(_ buffer: DMABuffer, bufferOffset: Int, deviceOffset: Int, count: Int, toRAM: Bool) throws {
        guard count > 0, deviceOffset >= 0, deviceOffset + count <= R.deviceBufferUsableEnd else {
            throw EduError.dmaOutOfRange(offset: deviceOffset, count: count)
        }
        guard bufferOffset >= 0, bufferOffset + count <= buffer.count else {
            throw BusmasterError.invalidArgument(
                "host range \(bufferOffset)..<\(bufferOffset + count) is outside the \(buffer.count)-byte DMA buffer")
        }
        let segments = buffer.segments(in: bufferOffset..<bufferOffset + count)
        guard segments.count == 1 else {
            throw BusmasterError.invalidArgument("edu DMA needs a bus-contiguous host range (got \(segments.count) segments)")
        }
        let bus = segments[0].busAddress
        guard bus + UInt64(count) <= UInt64(1) << UInt64(R.dmaAddressBits) else {
            throw BusmasterError.invalidArgument("bus address 0x\(String(bus, radix: 16)) is beyond edu's 28-bit DMA mask")
        }
        let device = R.deviceBufferAddress + UInt64(deviceOffset)
        if !toRAM { buffer.syncForDevice(bufferOffset..<bufferOffset + count) }
        registers.write(R.dmaSource, toRAM ? device : bus)
        registers.write(R.dmaDestination, toRAM ? bus : device)
        registers.write(R.dmaCount, UInt64(count))
        let useIRQ = interrupts.map { $0.kind != .polling } ?? false
        var command = R.commandRun.mask
        if toRAM { command |= R.commandDeviceToRAM.mask }
        if useIRQ { command |= R.commandInterrupt.mask }
        registers.write(R.dmaCommand, command)
        if useIRQ {
            let s = try waitForInterrupt()
            guard s & R.dmaDone != 0 else {
                throw BusmasterError.unsupported("DMA interrupt reported status 0x\(String(s, radix: 16)) without the DMA-done bit")
            }
        } else {
            try waitUntil("edu DMA of \(count) bytes", timeout: timeout) {
                let command = registers.read(R.dmaCommand)
                if command == .max { throw BusmasterError.deviceLost("edu DMA_CMD reads all-ones") }
                return !R.commandRun.isSet(in: command)
            }
        }
        if toRAM { buffer.syncForCPU(bufferOffset..<bufferOffset + count) }
    }
}
