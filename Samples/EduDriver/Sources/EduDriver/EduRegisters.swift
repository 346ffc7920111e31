import Busmaster

/// Register map of QEMU's edu device (BAR 0), as the driver knows it.
public enum EduRegisters {
    /// Identification: `0xRRrr00ed` (major RR, minor rr).
    public static let identification = Register<UInt32>("ID", offset: 0x00, .readOnly, "identification 0xRRrr00ed")
    /// Liveness check: reads back the bitwise inverse of the last value written.
    public static let liveness = Register<UInt32>("LIVENESS", offset: 0x04, .readWrite, "reads back ~value")
    /// Factorial: write n to start computing n!; reads the result once STATUS.COMPUTING clears.
    public static let factorial = Register<UInt32>("FACTORIAL", offset: 0x08, .readWrite, "n! (32-bit)")
    /// Status: COMPUTING and the factorial-interrupt enable.
    public static let status = Register<UInt32>("STATUS", offset: 0x20, .readWrite, "computing / IRQ enable")
    /// Interrupt status: OR of the raised interrupt values.
    public static let interruptStatus = Register<UInt32>("IRQ_STATUS", offset: 0x24, .readOnly, "raised interrupt bits")
    /// Raise: ORs the value into IRQ_STATUS and interrupts.
    public static let interruptRaise = Register<UInt32>("IRQ_RAISE", offset: 0x60, .writeOnly, "raise interrupt")
    /// Acknowledge: clears the given bits of IRQ_STATUS (INTx drops when it reaches 0).
    public static let interruptAcknowledge = Register<UInt32>("IRQ_ACK", offset: 0x64, .writeOnly, "acknowledge interrupt")
    /// DMA source address (bus address or device-buffer address).
    public static let dmaSource = Register<UInt64>("DMA_SRC", offset: 0x80, .readWrite, "DMA source")
    /// DMA destination address.
    public static let dmaDestination = Register<UInt64>("DMA_DST", offset: 0x88, .readWrite, "DMA destination")
    /// DMA byte count.
    public static let dmaCount = Register<UInt64>("DMA_CNT", offset: 0x90, .readWrite, "DMA byte count")
    /// DMA command: RUN, direction, IRQ on completion.
    public static let dmaCommand = Register<UInt64>("DMA_CMD", offset: 0x98, .readWrite, "DMA command")

    /// STATUS: a factorial is being computed.
    public static let statusComputing = BitField<UInt32>("COMPUTING", shift: 0, .readOnly)
    /// STATUS: raise interrupt 0x1 when a factorial completes.
    public static let statusFactorialInterrupt = BitField<UInt32>("IRQFACT", shift: 7)
    /// DMA_CMD: start (reads 1 while running).
    public static let commandRun = BitField<UInt64>("RUN", shift: 0)
    /// DMA_CMD: direction, 0 = RAM → device buffer, 1 = device buffer → RAM.
    public static let commandDeviceToRAM = BitField<UInt64>("DIR", shift: 1)
    /// DMA_CMD: raise interrupt 0x100 when done.
    public static let commandInterrupt = BitField<UInt64>("IRQ", shift: 2)

    /// IRQ_STATUS value of a finished factorial.
    public static let factorialDone: UInt32 = 0x1
    /// IRQ_STATUS value of a finished DMA.
    public static let dmaDone: UInt32 = 0x100
    /// The device-side address of the 4 KiB DMA buffer.
    public static let deviceBufferAddress: UInt64 = 0x40000
    /// Size of the device-side DMA buffer.
    public static let deviceBufferSize = 4096
    /// The largest usable end offset of a transfer in the device buffer (exclusive). QEMU
    /// before its January 2024 fix (Debian 12 ships 7.2) aborts the VM on a transfer that
    /// ends exactly at the buffer end, so the driver never issues one.
    public static let deviceBufferUsableEnd = 4095
    /// The edu's default DMA mask is 28 bits: RAM-side bus addresses must stay below 256 MiB.
    public static let dmaAddressBits = 28

    /// Every register, for dumps.
    public static let all: [RegisterDescriptor] = [
        identification.descriptor, liveness.descriptor, factorial.descriptor, status.descriptor,
        interruptStatus.descriptor, interruptRaise.descriptor, interruptAcknowledge.descriptor,
        dmaSource.descriptor, dmaDestination.descriptor, dmaCount.descriptor, dmaCommand.descriptor,
    ]
}
