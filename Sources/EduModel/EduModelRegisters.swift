import Busmaster

/// The edu device's BAR 0 registers, as the model declares them from the platform sheet
/// (QEMU `hw/misc/edu.c`). Independent of the sample driver's own declarations.
enum EduModelRegisters {
    static let identification = Register<UInt32>("ID", offset: 0x00, .readOnly, "0xRRrr00ed: major, minor")
    static let liveness = Register<UInt32>("LIVENESS", offset: 0x04, .readWrite, "reads back the inverse of what was written")
    static let factorial = Register<UInt32>("FACTORIAL", offset: 0x08, .readWrite, "write n to start n!; result once not computing")
    static let status = Register<UInt32>("STATUS", offset: 0x20, .readWrite, "bit 0 computing (RO), bit 7 IRQ on factorial done")
    static let interruptStatus = Register<UInt32>("IRQ_STATUS", offset: 0x24, .readOnly, "raised interrupt bits")
    static let interruptRaise = Register<UInt32>("IRQ_RAISE", offset: 0x60, .writeOnly, "ORs the value into IRQ_STATUS and interrupts")
    static let interruptAcknowledge = Register<UInt32>("IRQ_ACK", offset: 0x64, .writeOnly, "clears the given IRQ_STATUS bits")
    static let dmaSource = Register<UInt64>("DMA_SRC", offset: 0x80, .readWrite)
    static let dmaDestination = Register<UInt64>("DMA_DST", offset: 0x88, .readWrite)
    static let dmaCount = Register<UInt64>("DMA_CNT", offset: 0x90, .readWrite)
    static let dmaCommand = Register<UInt64>("DMA_CMD", offset: 0x98, .readWrite)

    static let statusComputing = BitField<UInt32>("COMPUTING", shift: 0, .readOnly)
    static let statusFactorialIRQ = BitField<UInt32>("IRQFACT", shift: 7)
    static let commandRun = BitField<UInt64>("RUN", shift: 0)
    static let commandToRAM = BitField<UInt64>("DIR_TO_RAM", shift: 1)
    static let commandIRQ = BitField<UInt64>("IRQ", shift: 2)

    /// IRQ_STATUS bit raised when a factorial finishes.
    static let factorialIRQ: UInt32 = 0x0000_0001
    /// IRQ_STATUS bit raised when a DMA finishes.
    static let dmaIRQ: UInt32 = 0x0000_0100
    /// Device-side address of the 4 KiB DMA buffer.
    static let dmaBufferBase: UInt64 = 0x40000
    static let dmaBufferSize = 4096
    /// Identification value of edu 1.0.
    static let identificationValue: UInt32 = 0x0100_00ED
}
