import Busmaster
import BusmasterSimulation

/// A behavioural model of QEMU's `edu` teaching device (1234:11e8).
///
/// Registers, access-size rules, the factorial worker, interrupt raise/acknowledge and the
/// DMA engine with its 4 KiB buffer at device address 0x40000 follow QEMU's `hw/misc/edu.c`
/// as summarised in the platform sheet. MSI (one vector, 64-bit, no masking) and INTx pin A.
///
/// Out-of-range DMA, which QEMU reports and refuses, is refused here and reported as a lint.
public final class EduModel: DeviceModel {
    typealias R = EduModelRegisters

    /// Identity and resources, matching QEMU's edu on a q35 machine.
    public let configuration = ModelConfiguration(
        vendorID: 0x1234, deviceID: 0x11E8, classCode: 0x00FF00, revision: 0x10,
        subsystemVendorID: 0x1AF4, subsystemID: 0x1100,
        bars: [ModelBAR(index: 0, size: 1 << 20)], interruptPin: 1,
        msi: ModelMSI(vectors: 1, is64Bit: true, perVectorMasking: false))

    /// Simulated time a factorial takes.
    public let factorialTime: Duration
    /// Simulated time a DMA transfer takes (QEMU: 100 ms of virtual time).
    public let dmaTime: Duration
    /// The DMA address mask (QEMU's `dma_mask` property; default 28 bits).
    public let dmaMask: UInt64
    /// QEMU releases before the January 2024 fix ("edu: fix DMA range upper bound check"),
    /// including Debian 12's 7.2, refuse a transfer that ends exactly at the end of the
    /// device buffer (0x41000) and abort the whole VM. Found by the real-kernel test; the
    /// model refuses such transfers (and reports a lint) when this is true.
    public let rejectsTransfersEndingAtBufferEnd: Bool

    private var context: DeviceContext!
    private var liveness: UInt32 = 0
    private var factorialValue: UInt32 = 0
    private var status: UInt32 = 0
    private var interruptStatus: UInt32 = 0
    private var dmaSource: UInt64 = 0
    private var dmaDestination: UInt64 = 0
    private var dmaCount: UInt64 = 0
    private var dmaCommand: UInt64 = 0
    private var buffer = [UInt8](repeating: 0, count: R.dmaBufferSize)

    /// Creates the model.
    /// - Parameters:
    ///   - factorialTime: how long a factorial computation takes.
    ///   - dmaTime: how long a DMA takes (QEMU uses 100 ms).
    ///   - dmaMask: bus-address mask applied to the RAM-side DMA address.
    public init(factorialTime: Duration = .microseconds(20), dmaTime: Duration = .milliseconds(100),
                dmaMask: UInt64 = (1 << 28) - 1, rejectsTransfersEndingAtBufferEnd: Bool = true) {
        self.factorialTime = factorialTime
        self.dmaTime = dmaTime
        self.dmaMask = dmaMask
        self.rejectsTransfersEndingAtBufferEnd = rejectsTransfersEndingAtBufferEnd
    }

    public func attach(_ context: DeviceContext) { self.context = context }

    /// A copy of the device-side DMA buffer (for tests and diagnostics).
    public var dmaBuffer: [UInt8] { buffer }

    public func reset() {
        liveness = 0
        factorialValue = 0
        status = 0
        interruptStatus = 0
        dmaSource = 0
        dmaDestination = 0
        dmaCount = 0
        dmaCommand = 0
        context.setINTx(false)
    }

    private func sizeAllowed(_ offset: Int, _ width: AccessWidth) -> Bool {
        offset < 0x80 ? width == .dword : (width == .dword || width == .qword)
    }

    public func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        guard sizeAllowed(offset, width) else { return .max }
        switch offset {
        case R.identification.offset: return UInt64(R.identificationValue)
        case R.liveness.offset: return UInt64(liveness)
        case R.factorial.offset: return UInt64(factorialValue)
        case R.status.offset: return UInt64(status)
        case R.interruptStatus.offset: return UInt64(interruptStatus)
        case R.dmaSource.offset: return dmaSource
        case R.dmaDestination.offset: return dmaDestination
        case R.dmaCount.offset: return dmaCount
        case R.dmaCommand.offset: return dmaCommand
        default: return .max
        }
    }

    public func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        guard sizeAllowed(offset, width) else { return }
        let v32 = UInt32(truncatingIfNeeded: value)
        switch offset {
        case R.liveness.offset:
            liveness = ~v32
        case R.factorial.offset:
            guard !R.statusComputing.isSet(in: status) else { return }
            factorialValue = v32
            status |= R.statusComputing.mask
            context.schedule(after: factorialTime) { [self] in finishFactorial() }
        case R.status.offset:
            status = (status & ~R.statusFactorialIRQ.mask) | (v32 & R.statusFactorialIRQ.mask)
        case R.interruptRaise.offset:
            raise(v32)
        case R.interruptAcknowledge.offset:
            lower(v32)
        case R.dmaSource.offset: setDMARegister(&dmaSource, value)
        case R.dmaDestination.offset: setDMARegister(&dmaDestination, value)
        case R.dmaCount.offset: setDMARegister(&dmaCount, value)
        case R.dmaCommand.offset:
            guard R.commandRun.isSet(in: value) else { return }
            guard !R.commandRun.isSet(in: dmaCommand) else { return }
            dmaCommand = value
            context.schedule(after: dmaTime) { [self] in finishDMA() }
        default:
            break
        }
    }

    /// Writes to the DMA registers are ignored while a transfer runs.
    private func setDMARegister(_ reg: inout UInt64, _ value: UInt64) {
        if R.commandRun.isSet(in: dmaCommand) { return }
        reg = value
    }

    private func finishFactorial() {
        var n = factorialValue
        var result: UInt32 = 1
        while n > 0 {
            result = result &* n
            n -= 1
        }
        factorialValue = result
        status &= ~R.statusComputing.mask
        if R.statusFactorialIRQ.isSet(in: status) { raise(R.factorialIRQ) }
    }

    private func finishDMA() {
        guard R.commandRun.isSet(in: dmaCommand) else { return }
        let count = Int(clamping: dmaCount)
        let toRAM = R.commandToRAM.isSet(in: dmaCommand)
        let deviceSide = toRAM ? dmaSource : dmaDestination
        let ramSide = (toRAM ? dmaDestination : dmaSource) & dmaMask
        if (toRAM ? dmaDestination : dmaSource) & ~dmaMask != 0 {
            context.lint("edu: RAM-side DMA address 0x\(String(toRAM ? dmaDestination : dmaSource, radix: 16)) clamped by dma_mask 0x\(String(dmaMask, radix: 16))")
        }
        let start = R.dmaBufferBase
        let end = start + UInt64(R.dmaBufferSize)
        let transferEnd = deviceSide + UInt64(count)
        let fits = rejectsTransfersEndingAtBufferEnd ? transferEnd < end : transferEnd <= end
        if deviceSide >= start && deviceSide < end && count > 0 && fits {
            let off = Int(deviceSide - start)
            buffer.withUnsafeMutableBytes { raw in
                let window = UnsafeMutableRawBufferPointer(rebasing: raw[off..<off + count])
                // Like QEMU's edu, a refused DMA (IOMMU fault) is ignored by the device; the
                // platform records the fault.
                if toRAM {
                    try? context.dmaWrite(at: ramSide, from: UnsafeRawBufferPointer(window))
                } else {
                    try? context.dmaRead(at: ramSide, into: window)
                }
            }
        } else {
            context.lint(
                "edu: DMA range 0x\(String(deviceSide, radix: 16))+\(count) is outside the device buffer 0x40000..<0x41000"
                    + (rejectsTransfersEndingAtBufferEnd ? " (QEMU 7.2 also refuses a transfer ending at 0x41000 and aborts)" : "")
                    + "; refused")
        }
        dmaCommand &= ~R.commandRun.mask
        if R.commandIRQ.isSet(in: dmaCommand) { raise(R.dmaIRQ) }
    }

    private func raise(_ bits: UInt32) {
        interruptStatus |= bits
        guard interruptStatus != 0 else { return }
        if context.msiEnabled { context.signalMSI(vector: 0) } else { context.setINTx(true) }
    }

    private func lower(_ bits: UInt32) {
        interruptStatus &= ~bits
        if interruptStatus == 0 && !context.msiEnabled { context.setINTx(false) }
    }
}
