import Busmaster

/// The DMA BAR of the XDMA IP as the model declares it from the chip sheet (§2, §3):
/// offsets within each block, bit fields and access kinds. Independent of the driver's own
/// declarations, so that a wrong offset on either side fails a test instead of being mirrored.
enum XDMAModelRegisters {
    // MARK: Address formula (§2.0)

    /// Size of the DMA BAR.
    static let dmaBARSize = 0x10000
    /// `offset = target << 12 | channel << 8 | byte`.
    static let target = BitField<UInt32>("TARGET", bits: 12...15, .readOnly)
    /// Channel field of an offset (targets 0, 1, 4, 5 only).
    static let channel = BitField<UInt32>("CHANNEL", bits: 8...11, .readOnly)
    /// Byte offset within a channel block.
    static let byte = BitField<UInt32>("BYTE", bits: 0...7, .readOnly)
    /// Byte offset within a channel-less block (IRQ, config, SGDMA common).
    static let blockByte = BitField<UInt32>("BLOCK_BYTE", bits: 0...11, .readOnly)

    /// Target numbers (bits 15:12 of an offset).
    enum Target: Int {
        case h2cChannel = 0, c2hChannel = 1, irq = 2, config = 3, h2cSGDMA = 4, c2hSGDMA = 5, sgdmaCommon = 6, msix = 8
    }

    // MARK: Identifier (§2.1), offset 0 of every target except MSI-X

    static let identifier = Register<UInt32>("IDENTIFIER", offset: 0x00, .readOnly, "0x1FC, target, stream, channel, IP version")
    static let idSubsystem = BitField<UInt32>("SUBSYSTEM", bits: 20...31, .readOnly)
    static let idTarget = BitField<UInt32>("TARGET", bits: 16...19, .readOnly)
    static let idStream = BitField<UInt32>("STREAM", shift: 15, .readOnly)
    static let idChannel = BitField<UInt32>("CHANNEL", bits: 8...11, .readOnly)
    static let idVersion = BitField<UInt32>("VERSION", bits: 0...7, .readOnly)
    /// Value of the subsystem field.
    static let subsystemValue: UInt32 = 0x1FC

    // MARK: Channel block (§2.2), H2C 0x0000 + ch·0x100, C2H 0x1000 + ch·0x100

    enum Channel {
        static let control = Register<UInt32>("CONTROL", offset: 0x04, .readWrite)
        static let controlW1S = Register<UInt32>("CONTROL_W1S", offset: 0x08, .write1ToSet)
        static let controlW1C = Register<UInt32>("CONTROL_W1C", offset: 0x0C, .write1ToClear)
        static let status = Register<UInt32>("STATUS", offset: 0x40, .readWrite1ToClear, "bit 0 busy (RO), 23:1 W1C")
        static let statusRC = Register<UInt32>("STATUS_RC", offset: 0x44, .readToClear, "returns Status, then clears 23:1")
        static let completedCount = Register<UInt32>("COMPLETED_DESC_COUNT", offset: 0x48, .readOnly)
        static let alignments = Register<UInt32>("ALIGNMENTS", offset: 0x4C, .readOnly)
        static let pollWritebackLow = Register<UInt32>("POLL_WB_ADDR_LO", offset: 0x88, .readWrite)
        static let pollWritebackHigh = Register<UInt32>("POLL_WB_ADDR_HI", offset: 0x8C, .readWrite)
        static let interruptMask = Register<UInt32>("INT_ENABLE_MASK", offset: 0x90, .readWrite)
        static let interruptMaskW1S = Register<UInt32>("INT_ENABLE_MASK_W1S", offset: 0x94, .write1ToSet)
        static let interruptMaskW1C = Register<UInt32>("INT_ENABLE_MASK_W1C", offset: 0x98, .write1ToClear)
        /// Not a register: [UP]'s wrong W1C alias; the model logs every access to it.
        static let upstreamWrongMaskW1C = Register<UInt32>("RESERVED_9C", offset: 0x9C, .readOnly)
        static let perfControl = Register<UInt32>("PERF_CONTROL", offset: 0xC0, .readWrite)
        static let perfCyclesLow = Register<UInt32>("PERF_CYCLE_COUNT_LO", offset: 0xC4, .readOnly)
        static let perfCyclesHigh = Register<UInt32>("PERF_CYCLE_COUNT_HI", offset: 0xC8, .readOnly)
        static let perfDataLow = Register<UInt32>("PERF_DATA_COUNT_LO", offset: 0xCC, .readOnly)
        static let perfDataHigh = Register<UInt32>("PERF_DATA_COUNT_HI", offset: 0xD0, .readOnly)
        static let pendingLow = Register<UInt32>("PENDING_LO", offset: 0xD4, .readOnly, "libxdma only; reads 0")
        static let pendingHigh = Register<UInt32>("PENDING_HI", offset: 0xD8, .readOnly, "libxdma only; reads 0")
    }

    /// Control register (0x04) bits.
    enum Control {
        static let run = BitField<UInt32>("RUN", shift: 0)
        static let ieDescriptorStopped = BitField<UInt32>("IE_DESCRIPTOR_STOPPED", shift: 1)
        static let ieDescriptorCompleted = BitField<UInt32>("IE_DESCRIPTOR_COMPLETED", shift: 2)
        static let ieAlignMismatch = BitField<UInt32>("IE_ALIGN_MISMATCH", shift: 3)
        static let ieMagicStopped = BitField<UInt32>("IE_MAGIC_STOPPED", shift: 4)
        static let ieInvalidLength = BitField<UInt32>("IE_INVALID_LENGTH", shift: 5)
        static let ieIdleStopped = BitField<UInt32>("IE_IDLE_STOPPED", shift: 6)
        static let ieReadError = BitField<UInt32>("IE_READ_ERROR", bits: 9...13)
        static let ieWriteError = BitField<UInt32>("IE_WRITE_ERROR", bits: 14...18)
        static let ieDescriptorError = BitField<UInt32>("IE_DESC_ERROR", bits: 19...23)
        static let nonIncrementingMode = BitField<UInt32>("NON_INC_MODE", shift: 25)
        static let pollModeWritebackEnable = BitField<UInt32>("POLLMODE_WB_ENABLE", shift: 26)
        static let streamWritebackDisable = BitField<UInt32>("C2H_ST_WB_DISABLE", shift: 27)
        /// Bits the RW/W1S/W1C aliases can change (27:0).
        static let writable = BitField<UInt32>("WRITABLE", bits: 0...27)
        /// Reserved bits 8:7, 24 and 31:28.
        static let reservedMask: UInt32 = 0xF100_0180
    }

    /// Status register (0x40 / 0x44) and interrupt mask (0x90) bits; the mask uses the same positions.
    enum Status {
        static let busy = BitField<UInt32>("BUSY", shift: 0, .readOnly)
        static let descriptorStopped = BitField<UInt32>("DESCRIPTOR_STOPPED", shift: 1, .readWrite1ToClear)
        static let descriptorCompleted = BitField<UInt32>("DESCRIPTOR_COMPLETED", shift: 2, .readWrite1ToClear)
        static let alignMismatch = BitField<UInt32>("ALIGN_MISMATCH", shift: 3, .readWrite1ToClear)
        static let magicStopped = BitField<UInt32>("MAGIC_STOPPED", shift: 4, .readWrite1ToClear)
        static let invalidLength = BitField<UInt32>("INVALID_LENGTH", shift: 5, .readWrite1ToClear)
        static let idleStopped = BitField<UInt32>("IDLE_STOPPED", shift: 6, .readWrite1ToClear)
        /// H2C: PCIe read errors UR, CA, parity, EP, unexpected completion. C2H: AXI DECERR, SLVERR (9, 10).
        static let readError = BitField<UInt32>("READ_ERROR", bits: 9...13, .readWrite1ToClear)
        /// H2C only: AXI DECERR (14), SLVERR (15).
        static let writeError = BitField<UInt32>("WRITE_ERROR", bits: 14...18, .readWrite1ToClear)
        /// Descriptor fetch errors UR, CA, parity, EP, unexpected completion (19–23).
        static let descriptorError = BitField<UInt32>("DESC_ERROR", bits: 19...23, .readWrite1ToClear)
        /// Bits 23:1, the latched part.
        static let latched = BitField<UInt32>("LATCHED", bits: 1...23, .readWrite1ToClear)
        /// Full error groups, H2C (§2.2).
        static let h2cErrorMask: UInt32 = 0x00FF_FE38
        /// Full error groups, C2H (§2.2).
        static let c2hErrorMask: UInt32 = 0x00F8_3E38
        /// The single-bit and 5-bit enable groups, for "is this error's ie group set".
        static let groups: [UInt32] = [1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 0x0000_3E00, 0x0007_C000, 0x00F8_0000]
        /// Which of the 5 bits of a read / write / descriptor group a PCIe error sets.
        static let readErrorShift = 9
        static let writeErrorShift = 14
        static let descriptorErrorShift = 19
    }

    /// Alignments register (0x4C) fields.
    enum Alignments {
        static let addressAlignment = BitField<UInt32>("ADDR_ALIGNMENT", bits: 16...23, .readOnly)
        static let lengthGranularity = BitField<UInt32>("LEN_GRANULARITY", bits: 8...15, .readOnly)
        static let addressBits = BitField<UInt32>("ADDRESS_BITS", bits: 0...7, .readOnly)
    }

    /// Perf monitor control (0xC0), PG numbering.
    enum PerfControl {
        static let auto = BitField<UInt32>("AUTO", shift: 0)
        static let clear = BitField<UInt32>("CLEAR", shift: 1, .writeOnly)
        static let run = BitField<UInt32>("RUN", shift: 2)
    }

    /// High words of the perf counters (0xC8 / 0xD0).
    enum PerfHigh {
        static let maxed = BitField<UInt32>("MAXED", shift: 16, .readOnly)
        static let countHigh = BitField<UInt32>("COUNT_41_32", bits: 0...9, .readOnly)
        /// The counters are 42 bits wide.
        static let counterBits = 42
    }

    // MARK: IRQ block (§2.3), 0x2000

    enum IRQ {
        static let userEnable = Register<UInt32>("USER_INT_ENABLE", offset: 0x04, .readWrite)
        static let userEnableW1S = Register<UInt32>("USER_INT_ENABLE_W1S", offset: 0x08, .write1ToSet)
        static let userEnableW1C = Register<UInt32>("USER_INT_ENABLE_W1C", offset: 0x0C, .write1ToClear)
        static let channelEnable = Register<UInt32>("CHANNEL_INT_ENABLE", offset: 0x10, .readWrite)
        static let channelEnableW1S = Register<UInt32>("CHANNEL_INT_ENABLE_W1S", offset: 0x14, .write1ToSet)
        static let channelEnableW1C = Register<UInt32>("CHANNEL_INT_ENABLE_W1C", offset: 0x18, .write1ToClear)
        static let userRequest = Register<UInt32>("USER_INT_REQUEST", offset: 0x40, .readOnly)
        static let channelRequest = Register<UInt32>("CHANNEL_INT_REQUEST", offset: 0x44, .readOnly)
        static let userPending = Register<UInt32>("USER_INT_PENDING", offset: 0x48, .readOnly)
        static let channelPending = Register<UInt32>("CHANNEL_INT_PENDING", offset: 0x4C, .readOnly)
        /// First of the four user vector-number registers (0x80, 0x84, 0x88, 0x8C).
        static let userVector = Register<UInt32>("USER_VECTOR", offset: 0x80, .readWrite)
        /// First of the two channel vector-number registers (0xA0, 0xA4).
        static let channelVector = Register<UInt32>("CHANNEL_VECTOR", offset: 0xA0, .readWrite)
        static let userVectorRegisters = 4
        static let channelVectorRegisters = 2
        /// One 5-bit vector field; four per register, 8 bits apart.
        static let vectorField = BitField<UInt32>("VECTOR", bits: 0...4)
        static let vectorFieldStride = 8
        static let vectorsPerRegister = 4
        /// Bits of a vector-number register that hold fields.
        static let vectorRegisterMask: UInt32 = 0x1F1F_1F1F
        /// For INTx only bits 1:0 of a vector field count (0 = INTA … 3 = INTD).
        static let intxLine = BitField<UInt32>("INTX_LINE", bits: 0...1)
        /// Maximum number of user interrupt lines.
        static let maxUserInterrupts = 16
    }

    // MARK: Config block (§2.4), 0x3000

    enum Config {
        static let busDev = Register<UInt32>("BUSDEV", offset: 0x04, .readOnly)
        static let maxPayload = Register<UInt32>("PCIE_MPS", offset: 0x08, .readOnly)
        static let maxReadRequest = Register<UInt32>("PCIE_MRRS", offset: 0x0C, .readOnly)
        static let systemID = Register<UInt32>("SYSTEM_ID", offset: 0x10, .readOnly)
        static let msiEnable = Register<UInt32>("MSI_ENABLE", offset: 0x14, .readOnly)
        static let datapathWidth = Register<UInt32>("DATAPATH_WIDTH", offset: 0x18, .readOnly)
        static let pcieControl = Register<UInt32>("PCIE_CONTROL", offset: 0x1C, .readWrite)
        static let axiMaxPayload = Register<UInt32>("AXI_USER_MAX_PAYLOAD", offset: 0x40, .readWrite)
        static let axiMaxReadRequest = Register<UInt32>("AXI_USER_MAX_READ_REQUEST", offset: 0x44, .readWrite)
        static let writeFlushTimeout = Register<UInt32>("WRITE_FLUSH_TIMEOUT", offset: 0x60, .readWrite)

        static let sizeCode = BitField<UInt32>("SIZE_CODE", bits: 0...2, .readOnly)
        static let msiEnabled = BitField<UInt32>("MSI_ENABLE", shift: 0, .readOnly)
        static let msixEnabled = BitField<UInt32>("MSIX_ENABLE", shift: 1, .readOnly)
        static let relaxedOrdering = BitField<UInt32>("RELAXED_ORDERING", shift: 0)
        static let effectiveSize = BitField<UInt32>("EFFECTIVE", bits: 4...6, .readOnly)
        static let programmedSize = BitField<UInt32>("PROGRAMMED", bits: 0...2)
        static let flushTimeout = BitField<UInt32>("TIMEOUT", bits: 0...4)
        /// Reset value of the programmed AXI payload / read-request codes (4096 bytes).
        static let programmedSizeReset: UInt32 = 5
    }

    // MARK: SGDMA blocks (§2.5), H2C 0x4000 + ch·0x100, C2H 0x5000 + ch·0x100

    enum SGDMA {
        static let firstDescriptorLow = Register<UInt32>("FIRST_DESC_LO", offset: 0x80, .readWrite)
        static let firstDescriptorHigh = Register<UInt32>("FIRST_DESC_HI", offset: 0x84, .readWrite)
        static let firstDescriptorAdjacent = Register<UInt32>("FIRST_DESC_ADJACENT", offset: 0x88, .readWrite)
        static let credits = Register<UInt32>("DESC_CREDITS", offset: 0x8C, .readWrite, "a write adds credits")
        static let adjacent = BitField<UInt32>("ADJACENT", bits: 0...5)
        static let creditCount = BitField<UInt32>("CREDITS", bits: 0...9)
    }

    // MARK: SGDMA common (§2.6), 0x6000

    enum Common {
        static let halt = Register<UInt32>("DESC_HALT", offset: 0x10, .readWrite)
        static let haltW1S = Register<UInt32>("DESC_HALT_W1S", offset: 0x14, .write1ToSet)
        static let haltW1C = Register<UInt32>("DESC_HALT_W1C", offset: 0x18, .write1ToClear)
        static let creditMode = Register<UInt32>("DESC_CREDIT_MODE", offset: 0x20, .readWrite)
        static let creditModeW1S = Register<UInt32>("DESC_CREDIT_MODE_W1S", offset: 0x24, .write1ToSet)
        static let creditModeW1C = Register<UInt32>("DESC_CREDIT_MODE_W1C", offset: 0x28, .write1ToClear)
        static let h2cChannels = BitField<UInt32>("H2C", bits: 0...3)
        static let c2hChannels = BitField<UInt32>("C2H", bits: 16...19)
    }

    // MARK: MSI-X (§2.7), 0x8000

    enum MSIX {
        static let tableOffset = 0x8000
        static let pbaOffset = 0x8FE0
        static let entrySize = 16
        static let maxEntries = 32
        static let vectorControlReset: UInt32 = 0xFFFF_FFFF
        /// Dword index of Vector Control within an entry.
        static let vectorControlDword = 3
    }

    // MARK: Descriptor (§3.1)

    enum Descriptor {
        static let size = 32
        static let maxBlock = 64
        static let magic = BitField<UInt32>("MAGIC", bits: 16...31)
        static let magicValue: UInt32 = 0xAD4B
        static let reservedControl = BitField<UInt32>("RESERVED", bits: 14...15)
        static let nextAdjacent = BitField<UInt32>("NXT_ADJ", bits: 8...13)
        static let stop = BitField<UInt32>("STOP", shift: 0)
        static let completed = BitField<UInt32>("COMPLETED", shift: 1)
        static let endOfPacket = BitField<UInt32>("EOP", shift: 4)
        /// Flag bits other than Stop, Completed and EOP (must be 0).
        static let reservedFlags: UInt32 = 0xEC
        static let length = BitField<UInt32>("LENGTH", bits: 0...27)
        static let lengthReserved = BitField<UInt32>("LENGTH_RESERVED", bits: 28...31)
        /// Byte offsets of the fields.
        static let controlOffset = 0x00
        static let lengthOffset = 0x04
        static let sourceOffset = 0x08
        static let destinationOffset = 0x10
        static let nextOffset = 0x18
    }

    // MARK: Writebacks (§3.3, §3.4)

    enum PollWriteback {
        static let error = BitField<UInt32>("STS_ERR", shift: 31)
        static let count = BitField<UInt32>("COMPLETED_COUNT", bits: 0...23)
    }

    enum ResultWriteback {
        static let magic = BitField<UInt32>("MAGIC", bits: 16...31)
        static let magicValue: UInt32 = 0x52B4
        static let endOfPacket = BitField<UInt32>("EOP", shift: 0)
        /// Bytes written per result slot (status word + length word).
        static let size = 8
    }
}

/// The AXI4-Lite ("user") BAR of the model's user logic. The XDMA IP passes these accesses
/// to the design; this layout is the simulator's own example design (inf), published so
/// drivers, tests and tools can clear user interrupts and exercise the BAR end to end.
public enum XDMAModelUserBAR {
    /// 16 scratch registers at 0x00–0x3C, RW, reset 0.
    public static let scratch = Register<UInt32>("SCRATCH", offset: 0x00, .readWrite, "16 scratch registers, 4 bytes apart")
    /// Number of scratch registers.
    public static let scratchCount = 16
    /// Current `usr_irq_req` lines, bit n = line n.
    public static let userInterruptLines = Register<UInt32>("USR_IRQ_LINES", offset: 0x40, .readOnly)
    /// Writing bit n lowers user interrupt line n (the design's "clear IRQ n"). Reads the lines.
    public static let userInterruptClear = Register<UInt32>("USR_IRQ_CLEAR", offset: 0x44, .write1ToClear)
    /// Writing bit n raises user interrupt line n (lets tools exercise user interrupts). Reads the lines.
    public static let userInterruptRaise = Register<UInt32>("USR_IRQ_RAISE", offset: 0x48, .write1ToSet)
    /// A read-to-clear event register: reading it clears every scratch register, when the
    /// model is configured with ``XDMAModelConfiguration/userBARReadSideEffects``. Reads are
    /// always counted (``XDMAModelStatistics/userBARProbeReads``). It sits where a blind DMA-BAR
    /// probe (§1.3) reads.
    public static let probeTrapLow = Register<UInt32>("EVENT_LATCH_A", offset: 0x2000, .readToClear)
    /// The second read-to-clear register, at the other offset a blind probe reads.
    public static let probeTrapHigh = Register<UInt32>("EVENT_LATCH_B", offset: 0x3000, .readToClear)
    /// Smallest user BAR the layout fits in.
    public static let minimumSize = 0x4000
}
