import Busmaster

/// Every register and bit field of the XDMA DMA BAR (PG195 "DMA/Bridge Subsystem for PCI
/// Express"), declared once. Programming code uses these names, never raw offsets.
///
/// Offsets follow `target << 12 | channel << 8 | byte`: per-channel blocks are declared
/// relative to their block base and placed with ``XDMARegisters/channelBlock(_:channel:)``
/// and ``XDMARegisters/sgdmaBlock(_:channel:)``.
public enum XDMARegisters {
    // MARK: Block bases

    /// Base of the H2C channel blocks (target 0).
    public static let h2cChannelBase = 0x0000
    /// Base of the C2H channel blocks (target 1).
    public static let c2hChannelBase = 0x1000
    /// Base of the IRQ block (target 2).
    public static let irqBlockBase = 0x2000
    /// Base of the config block (target 3).
    public static let configBlockBase = 0x3000
    /// Base of the H2C SGDMA blocks (target 4).
    public static let h2cSGDMABase = 0x4000
    /// Base of the C2H SGDMA blocks (target 5).
    public static let c2hSGDMABase = 0x5000
    /// Base of the SGDMA common block (target 6).
    public static let sgdmaCommonBase = 0x6000
    /// Base of the MSI-X vector table (programmed by the platform, never by this driver).
    public static let msixTableBase = 0x8000
    /// Base of the MSI-X pending-bit array.
    public static let msixPBABase = 0x8FE0
    /// Distance between consecutive channels' blocks.
    public static let channelStride = 0x100
    /// Channels per direction the register map has room for.
    public static let maxChannels = 4
    /// Size of the DMA BAR in every known IP configuration.
    public static let dmaBARSize = 0x10000
    /// Smallest BAR that can hold the DMA registers (the libxdma candidate threshold).
    public static let minimumDMABARSize = 0x8000

    /// Offset of the channel block of `direction`'s `channel`.
    public static func channelBlock(_ direction: XDMADirection, channel: Int) -> Int {
        (direction == .h2c ? h2cChannelBase : c2hChannelBase) + channel * channelStride
    }

    /// Offset of the SGDMA block of `direction`'s `channel`.
    public static func sgdmaBlock(_ direction: XDMADirection, channel: Int) -> Int {
        (direction == .h2c ? h2cSGDMABase : c2hSGDMABase) + channel * channelStride
    }

    /// Target numbers (bits 19:16 of identifiers).
    public enum Target {
        /// H2C channel.
        public static let h2cChannel: UInt32 = 0
        /// C2H channel.
        public static let c2hChannel: UInt32 = 1
        /// IRQ block.
        public static let irqBlock: UInt32 = 2
        /// Config block.
        public static let configBlock: UInt32 = 3
        /// H2C SGDMA.
        public static let h2cSGDMA: UInt32 = 4
        /// C2H SGDMA.
        public static let c2hSGDMA: UInt32 = 5
        /// SGDMA common.
        public static let sgdmaCommon: UInt32 = 6
    }

    // MARK: Identifier (offset 0 of every block)

    /// Identifier fields, the same layout in every block.
    public enum Identifier {
        /// Subsystem code, 0x1FC on every XDMA block.
        public static let subsystem = BitField<UInt32>("SUBSYSTEM", bits: 20...31, .readOnly)
        /// Target number of the block.
        public static let target = BitField<UInt32>("TARGET", bits: 16...19, .readOnly)
        /// 1 = AXI4-Stream, 0 = AXI4-MM (channel and SGDMA identifiers only).
        public static let stream = BitField<UInt32>("STREAM", shift: 15, .readOnly)
        /// Channel number (channel and SGDMA identifiers only).
        public static let channel = BitField<UInt32>("CHANNEL", bits: 8...11, .readOnly)
        /// IP version (1 = 2015.3/4 … 6 = 2017.1 and later).
        public static let version = BitField<UInt32>("VERSION", bits: 0...7, .readOnly)
        /// The subsystem code every block reports.
        public static let subsystemValue: UInt32 = 0x1FC
        /// What a removed device or a downed link reads.
        public static let deviceLostValue: UInt32 = 0xFFFF_FFFF
    }

    // MARK: Channel block (relative to channelBlock(_:channel:))

    /// Channel-block registers, relative to the block base.
    public enum Channel {
        /// Engine identifier.
        public static let identifier = Register<UInt32>("IDENTIFIER", offset: 0x00, .readOnly, "subsystem, target, stream bit, channel, version")
        /// Engine control.
        public static let control = Register<UInt32>("CONTROL", offset: 0x04, .readWrite, "run and latch enables (bits 27:0)")
        /// Engine control, write 1 to set.
        public static let controlSet = Register<UInt32>("CONTROL_W1S", offset: 0x08, .write1ToSet, "sets control bits 27:0")
        /// Engine control, write 1 to clear.
        public static let controlClear = Register<UInt32>("CONTROL_W1C", offset: 0x0C, .write1ToClear, "clears control bits 27:0")
        /// Engine status; writing 1s clears bits 23:1.
        public static let status = Register<UInt32>("STATUS", offset: 0x40, .readWrite1ToClear, "busy, stop/complete causes, error groups")
        /// Engine status, cleared by the read (bits 23:1).
        public static let statusReadClear = Register<UInt32>("STATUS_RC", offset: 0x44, .readToClear, "status, then clears bits 23:1")
        /// Descriptors completed since Run rose.
        public static let completedDescriptorCount = Register<UInt32>("COMPLETED_DESC_COUNT", offset: 0x48, .readOnly, "zeroed when Run rises")
        /// Address alignment, length granularity and address bits.
        public static let alignments = Register<UInt32>("ALIGNMENTS", offset: 0x4C, .readOnly, "23:16 address alignment, 15:8 granularity, 7:0 address bits")
        /// Poll-mode writeback address, low half.
        public static let pollWritebackLow = Register<UInt32>("POLL_WB_ADDR_LO", offset: 0x88, .readWrite, "poll-mode writeback bus address 31:0")
        /// Poll-mode writeback address, high half.
        public static let pollWritebackHigh = Register<UInt32>("POLL_WB_ADDR_HI", offset: 0x8C, .readWrite, "poll-mode writeback bus address 63:32")
        /// Interrupt enable mask (status bit positions).
        public static let interruptMask = Register<UInt32>("INT_ENABLE_MASK", offset: 0x90, .readWrite, "status bits that raise the engine interrupt")
        /// Interrupt enable mask, write 1 to set.
        public static let interruptMaskSet = Register<UInt32>("INT_ENABLE_MASK_W1S", offset: 0x94, .write1ToSet, "sets interrupt-mask bits")
        /// Interrupt enable mask, write 1 to clear (0x98; 0x9C is reserved).
        public static let interruptMaskClear = Register<UInt32>("INT_ENABLE_MASK_W1C", offset: 0x98, .write1ToClear, "clears interrupt-mask bits")
        /// Performance monitor control.
        public static let performanceControl = Register<UInt32>("PERF_CONTROL", offset: 0xC0, .readWrite, "bit0 Auto, bit1 Clear (WO), bit2 Run")
        /// Performance cycle count, bits 31:0.
        public static let performanceCyclesLow = Register<UInt32>("PERF_CYCLE_LO", offset: 0xC4, .readOnly, "cycle count 31:0")
        /// Performance cycle count, bits 41:32 and the maxed flag.
        public static let performanceCyclesHigh = Register<UInt32>("PERF_CYCLE_HI", offset: 0xC8, .readOnly, "bit16 maxed, 9:0 cycle count 41:32")
        /// Performance data count, bits 31:0.
        public static let performanceDataLow = Register<UInt32>("PERF_DATA_LO", offset: 0xCC, .readOnly, "data beats 31:0")
        /// Performance data count, bits 41:32 and the maxed flag.
        public static let performanceDataHigh = Register<UInt32>("PERF_DATA_HI", offset: 0xD0, .readOnly, "bit16 maxed, 9:0 data beats 41:32")

        /// Every channel-block register, in offset order.
        public static let all: [Register<UInt32>] = [
            identifier, control, controlSet, controlClear, status, statusReadClear, completedDescriptorCount, alignments,
            pollWritebackLow, pollWritebackHigh, interruptMask, interruptMaskSet, interruptMaskClear, performanceControl,
            performanceCyclesLow, performanceCyclesHigh, performanceDataLow, performanceDataHigh,
        ]
    }

    /// Control register (0x04/0x08/0x0C) fields.
    public enum Control {
        /// Start (0→1) or stop after the current descriptor (1→0).
        public static let run = BitField<UInt32>("RUN", shift: 0)
        /// Latch enable for descriptor_stopped.
        public static let ieDescriptorStopped = BitField<UInt32>("IE_DESC_STOPPED", shift: 1)
        /// Latch enable for descriptor_completed.
        public static let ieDescriptorCompleted = BitField<UInt32>("IE_DESC_COMPLETED", shift: 2)
        /// Latch enable for align_mismatch.
        public static let ieAlignMismatch = BitField<UInt32>("IE_ALIGN_MISMATCH", shift: 3)
        /// Latch enable for magic_stopped.
        public static let ieMagicStopped = BitField<UInt32>("IE_MAGIC_STOPPED", shift: 4)
        /// Latch enable for invalid_length.
        public static let ieInvalidLength = BitField<UInt32>("IE_INVALID_LENGTH", shift: 5)
        /// Latch enable for idle_stopped.
        public static let ieIdleStopped = BitField<UInt32>("IE_IDLE_STOPPED", shift: 6)
        /// Latch enables for the five read-error causes (write all ones).
        public static let ieReadError = BitField<UInt32>("IE_READ_ERROR", bits: 9...13)
        /// Latch enables for the H2C write-error causes (H2C only; write all ones).
        public static let ieWriteError = BitField<UInt32>("IE_WRITE_ERROR", bits: 14...18)
        /// Latch enables for the descriptor-fetch error causes (write all ones).
        public static let ieDescriptorError = BitField<UInt32>("IE_DESC_ERROR", bits: 19...23)
        /// The AXI (card) address stays fixed: a FIFO-style card port.
        public static let nonIncrementingAddress = BitField<UInt32>("NON_INC_MODE", shift: 25)
        /// DMA the completed-descriptor count to the poll-mode writeback address.
        public static let pollModeWritebackEnable = BitField<UInt32>("POLLMODE_WB_ENABLE", shift: 26)
        /// C2H stream only: suppress the per-descriptor result writeback.
        public static let streamWritebackDisable = BitField<UInt32>("C2H_ST_WB_DISABLE", shift: 27)
    }

    /// Status register (0x40/0x44) and interrupt mask (0x90) fields: the same bit positions.
    public enum Status {
        /// Descriptors queued or requests outstanding (read-only, live).
        public static let busy = BitField<UInt32>("BUSY", shift: 0, .readOnly)
        /// A descriptor with Stop has completed.
        public static let descriptorStopped = BitField<UInt32>("DESC_STOPPED", shift: 1, .readWrite1ToClear)
        /// A descriptor with Completed has completed.
        public static let descriptorCompleted = BitField<UInt32>("DESC_COMPLETED", shift: 2, .readWrite1ToClear)
        /// Source and destination misaligned relative to each other.
        public static let alignMismatch = BitField<UInt32>("ALIGN_MISMATCH", shift: 3, .readWrite1ToClear)
        /// Bad descriptor magic; engine halted.
        public static let magicStopped = BitField<UInt32>("MAGIC_STOPPED", shift: 4, .readWrite1ToClear)
        /// Stream length not a multiple of the datapath width (or the C2H 64-byte rule).
        public static let invalidLength = BitField<UInt32>("INVALID_LENGTH", shift: 5, .readWrite1ToClear)
        /// Engine went idle after Run was cleared.
        public static let idleStopped = BitField<UInt32>("IDLE_STOPPED", shift: 6, .readWrite1ToClear)
        /// Read-error group (H2C: PCIe UR, CA, parity, poisoned, unexpected completion; C2H: AXI DECERR, SLVERR).
        public static let readError = BitField<UInt32>("READ_ERROR", bits: 9...13, .readWrite1ToClear)
        /// Write-error group (H2C: AXI DECERR, SLVERR; reserved on C2H).
        public static let writeError = BitField<UInt32>("WRITE_ERROR", bits: 14...18, .readWrite1ToClear)
        /// Descriptor-fetch error group (UR, CA, parity, poisoned, unexpected completion).
        public static let descriptorError = BitField<UInt32>("DESC_ERROR", bits: 19...23, .readWrite1ToClear)
        /// Every cause bit (23:1), the bits a W1C or RC access clears.
        public static let causes = BitField<UInt32>("CAUSES", bits: 1...23, .readWrite1ToClear)
    }

    /// Alignments register (0x4C) fields.
    public enum Alignments {
        /// Required address alignment in bytes (source/destination congruence).
        public static let addressAlignment = BitField<UInt32>("ADDR_ALIGNMENT", bits: 16...23, .readOnly)
        /// Length granularity in bytes.
        public static let lengthGranularity = BitField<UInt32>("LEN_GRANULARITY", bits: 8...15, .readOnly)
        /// Number of card (AXI) address bits.
        public static let addressBits = BitField<UInt32>("ADDRESS_BITS", bits: 0...7, .readOnly)
    }

    /// Performance control (0xC0) fields, PG numbering.
    public enum PerformanceControl {
        /// Counting stops when a Stop descriptor completes; counters clear on a Run rising edge.
        public static let auto = BitField<UInt32>("AUTO", shift: 0)
        /// Write 1 to zero both counters (write-only).
        public static let clear = BitField<UInt32>("CLEAR", shift: 1, .writeOnly)
        /// Arms the counters; counting starts once Control.Run is 1.
        public static let run = BitField<UInt32>("RUN", shift: 2)
    }

    /// Performance counter high-word (0xC8, 0xD0) fields.
    public enum PerformanceHigh {
        /// The counter hit its maximum.
        public static let maxed = BitField<UInt32>("MAXED", shift: 16, .readOnly)
        /// Counter bits 41:32.
        public static let countHigh = BitField<UInt32>("COUNT_HI", bits: 0...9, .readOnly)
    }

    // MARK: IRQ block (absolute offsets)

    /// IRQ-block registers (absolute offsets in the DMA BAR).
    public enum IRQ {
        /// Block identifier (0x1FC2xxxx).
        public static let identifier = Register<UInt32>("IRQ_IDENTIFIER", offset: 0x2000, .readOnly, "0x1FC2xxxx")
        /// User interrupt enable (bit n ↔ usr_irq_req[n]).
        public static let userEnable = Register<UInt32>("USER_INT_ENABLE", offset: 0x2004, .readWrite, "bit n enables user interrupt n")
        /// User interrupt enable, write 1 to set.
        public static let userEnableSet = Register<UInt32>("USER_INT_ENABLE_W1S", offset: 0x2008, .write1ToSet, "enables user interrupts")
        /// User interrupt enable, write 1 to clear.
        public static let userEnableClear = Register<UInt32>("USER_INT_ENABLE_W1C", offset: 0x200C, .write1ToClear, "disables user interrupts")
        /// Channel interrupt enable (one bit per engine index).
        public static let channelEnable = Register<UInt32>("CHANNEL_INT_ENABLE", offset: 0x2010, .readWrite, "bit e enables engine e's interrupt")
        /// Channel interrupt enable, write 1 to set.
        public static let channelEnableSet = Register<UInt32>("CHANNEL_INT_ENABLE_W1S", offset: 0x2014, .write1ToSet, "enables engine interrupts")
        /// Channel interrupt enable, write 1 to clear.
        public static let channelEnableClear = Register<UInt32>("CHANNEL_INT_ENABLE_W1C", offset: 0x2018, .write1ToClear, "disables engine interrupts")
        /// User interrupt requests (source AND enable).
        public static let userRequest = Register<UInt32>("USER_INT_REQUEST", offset: 0x2040, .readOnly, "user sources that are enabled and active")
        /// Channel interrupt requests (engine source AND enable).
        public static let channelRequest = Register<UInt32>("CHANNEL_INT_REQUEST", offset: 0x2044, .readOnly, "engines whose interrupt is enabled and active")
        /// User interrupt pending (clears when the source goes away).
        public static let userPending = Register<UInt32>("USER_INT_PENDING", offset: 0x2048, .readOnly, "active user sources")
        /// Channel interrupt pending (clears when the engine's cause is cleared).
        public static let channelPending = Register<UInt32>("CHANNEL_INT_PENDING", offset: 0x204C, .readOnly, "engines with an active cause")
        /// User vector numbers for user interrupts 0–3 (0x2084: 4–7, 0x2088: 8–11, 0x208C: 12–15).
        public static let userVector = Register<UInt32>("USER_VECTOR_0_3", offset: 0x2080, .readWrite, "four 5-bit vector fields")
        /// Channel vector numbers for engines 0–3 (0x20A4: engines 4–7).
        public static let channelVector = Register<UInt32>("CHANNEL_VECTOR_0_3", offset: 0x20A0, .readWrite, "four 5-bit vector fields")
        /// Vector fields per vector register.
        public static let fieldsPerVectorRegister = 4
        /// User vector registers.
        public static let userVectorRegisters = 4
        /// Channel vector registers.
        public static let channelVectorRegisters = 2

        /// The vector register holding user interrupt `n`'s field.
        public static func userVectorRegister(for n: Int) -> Register<UInt32> {
            let index = n / fieldsPerVectorRegister
            let first = index * fieldsPerVectorRegister
            return userVector.advanced(by: 4 * index, name: "USER_VECTOR_\(first)_\(first + 3)")
        }

        /// The vector register holding engine index `e`'s field.
        public static func channelVectorRegister(for e: Int) -> Register<UInt32> {
            let index = e / fieldsPerVectorRegister
            let first = index * fieldsPerVectorRegister
            return channelVector.advanced(by: 4 * index, name: "CHANNEL_VECTOR_\(first)_\(first + 3)")
        }

        /// The 5-bit vector field for entry `n` within its vector register.
        public static func vectorField(for n: Int) -> BitField<UInt32> {
            BitField<UInt32>("VECTOR_\(n % fieldsPerVectorRegister)", shift: 8 * (n % fieldsPerVectorRegister), width: 5)
        }

        /// The INTx pin field (bits 1:0 of a vector field: 0 = INTA … 3 = INTD).
        public static let intxPinField = BitField<UInt32>("INTX_PIN", bits: 0...1)
    }

    // MARK: Config block (absolute offsets)

    /// Config-block registers (absolute offsets in the DMA BAR).
    public enum Config {
        /// Block identifier (0x1FC3xxxx).
        public static let identifier = Register<UInt32>("CONFIG_IDENTIFIER", offset: 0x3000, .readOnly, "0x1FC3xxxx")
        /// Bus/device/function of the endpoint.
        public static let busDevice = Register<UInt32>("BUSDEV", offset: 0x3004, .readOnly, "15:0 bus/dev/fn")
        /// PCIe max payload size in effect.
        public static let maxPayloadSize = Register<UInt32>("PCIE_MPS", offset: 0x3008, .readOnly, "2:0 size code")
        /// PCIe max read request size in effect.
        public static let maxReadRequestSize = Register<UInt32>("PCIE_MRRS", offset: 0x300C, .readOnly, "2:0 size code")
        /// System ID.
        public static let systemID = Register<UInt32>("SYSTEM_ID", offset: 0x3010, .readOnly, "15:0, default FF01")
        /// Whether MSI / MSI-X are enabled.
        public static let msiEnable = Register<UInt32>("MSI_ENABLE", offset: 0x3014, .readOnly, "bit0 MSI, bit1 MSI-X")
        /// Datapath width.
        public static let datapathWidth = Register<UInt32>("DATAPATH_WIDTH", offset: 0x3018, .readOnly, "2:0: 0=64 … 3=512 bits")
        /// PCIe control.
        public static let pcieControl = Register<UInt32>("PCIE_CONTROL", offset: 0x301C, .readWrite, "bit0 relaxed ordering on read requests")
        /// AXI user max payload.
        public static let axiUserMaxPayload = Register<UInt32>("AXI_USER_MPS", offset: 0x3040, .readWrite, "6:4 effective (RO), 2:0 programmed")
        /// AXI user max read request.
        public static let axiUserMaxReadRequest = Register<UInt32>("AXI_USER_MRRS", offset: 0x3044, .readWrite, "6:4 effective (RO), 2:0 programmed")
        /// Write flush timeout (C2H stream).
        public static let writeFlushTimeout = Register<UInt32>("WRITE_FLUSH_TIMEOUT", offset: 0x3060, .readWrite, "4:0: 2^v clocks; 0 = off")

        /// All config-block registers, in offset order.
        public static let all: [Register<UInt32>] = [
            identifier, busDevice, maxPayloadSize, maxReadRequestSize, systemID, msiEnable, datapathWidth, pcieControl,
            axiUserMaxPayload, axiUserMaxReadRequest, writeFlushTimeout,
        ]

        /// Size-code field of MPS/MRRS (0 = 128 … 5 = 4096 bytes).
        public static let sizeCode = BitField<UInt32>("SIZE_CODE", bits: 0...2, .readOnly)
        /// MSI enabled.
        public static let msiEnabled = BitField<UInt32>("MSI", shift: 0, .readOnly)
        /// MSI-X enabled.
        public static let msixEnabled = BitField<UInt32>("MSIX", shift: 1, .readOnly)
        /// Datapath width code (0 = 64, 1 = 128, 2 = 256, 3 = 512 bits).
        public static let datapathWidthCode = BitField<UInt32>("WIDTH", bits: 0...2, .readOnly)
        /// Relaxed ordering on read requests.
        public static let relaxedOrdering = BitField<UInt32>("RELAXED_ORDERING", shift: 0)
        /// AXI user value in effect.
        public static let axiEffective = BitField<UInt32>("EFFECTIVE", bits: 4...6, .readOnly)
        /// AXI user value programmed.
        public static let axiProgrammed = BitField<UInt32>("PROGRAMMED", bits: 0...2)
        /// Write flush timeout exponent.
        public static let flushTimeoutExponent = BitField<UInt32>("TIMEOUT", bits: 0...4)
    }

    // MARK: SGDMA block (relative to sgdmaBlock(_:channel:))

    /// SGDMA-block registers, relative to the block base.
    public enum SGDMA {
        /// SGDMA identifier (target 4/5, stream bit, channel).
        public static let identifier = Register<UInt32>("SGDMA_IDENTIFIER", offset: 0x00, .readOnly, "target 4/5, stream bit, channel")
        /// First descriptor bus address, low half.
        public static let descriptorLow = Register<UInt32>("DESC_ADDR_LO", offset: 0x80, .readWrite, "first descriptor bus address 31:0")
        /// First descriptor bus address, high half.
        public static let descriptorHigh = Register<UInt32>("DESC_ADDR_HI", offset: 0x84, .readWrite, "first descriptor bus address 63:32")
        /// Extra contiguous descriptors after the first (0–63).
        public static let descriptorAdjacent = Register<UInt32>("DESC_ADJACENT", offset: 0x88, .readWrite, "5:0 extra adjacent descriptors")
        /// Descriptor credits (a write adds; a read returns what is left).
        public static let descriptorCredits = Register<UInt32>("DESC_CREDITS", offset: 0x8C, .readWrite, "9:0 credits (credit mode only)")

        /// All SGDMA-block registers, in offset order.
        public static let all: [Register<UInt32>] = [identifier, descriptorLow, descriptorHigh, descriptorAdjacent, descriptorCredits]

        /// Adjacent-count field of 0x88.
        public static let adjacentCount = BitField<UInt32>("ADJACENT", bits: 0...5)
        /// Credit field of 0x8C.
        public static let credits = BitField<UInt32>("CREDITS", bits: 0...9)
    }

    // MARK: SGDMA common (absolute offsets)

    /// SGDMA-common registers (bits per channel: H2C bit ch, C2H bit 16+ch).
    public enum SGDMACommon {
        /// Block identifier (0x1FC6xxxx).
        public static let identifier = Register<UInt32>("SGDMA_COMMON_IDENTIFIER", offset: 0x6000, .readOnly, "0x1FC6xxxx")
        /// Descriptor halt.
        public static let descriptorHalt = Register<UInt32>("DESC_HALT", offset: 0x6010, .readWrite, "3:0 H2C, 19:16 C2H: fetch no more descriptors")
        /// Descriptor halt, write 1 to set.
        public static let descriptorHaltSet = Register<UInt32>("DESC_HALT_W1S", offset: 0x6014, .write1ToSet, "halts fetching")
        /// Descriptor halt, write 1 to clear.
        public static let descriptorHaltClear = Register<UInt32>("DESC_HALT_W1C", offset: 0x6018, .write1ToClear, "resumes fetching")
        /// Credit mode enable.
        public static let creditModeEnable = Register<UInt32>("CREDIT_MODE_ENABLE", offset: 0x6020, .readWrite, "3:0 H2C, 19:16 C2H: fetch only with credits")
        /// Credit mode enable, write 1 to set.
        public static let creditModeEnableSet = Register<UInt32>("CREDIT_MODE_ENABLE_W1S", offset: 0x6024, .write1ToSet, "turns credit mode on")
        /// Credit mode enable, write 1 to clear.
        public static let creditModeEnableClear = Register<UInt32>("CREDIT_MODE_ENABLE_W1C", offset: 0x6028, .write1ToClear, "turns credit mode off")

        /// All SGDMA-common registers, in offset order.
        public static let all: [Register<UInt32>] = [
            identifier, descriptorHalt, descriptorHaltSet, descriptorHaltClear, creditModeEnable, creditModeEnableSet,
            creditModeEnableClear,
        ]

        /// Bit of SGDMA-common registers for `direction`'s `channel`.
        public static func channelBit(_ direction: XDMADirection, channel: Int) -> UInt32 {
            UInt32(1) << UInt32(direction == .h2c ? channel : 16 + channel)
        }
    }

    // MARK: Recommended values (sheet §2.8), built from the fields above

    /// Every latch-enable bit of the Control register for `direction` (write errors only on H2C).
    public static func latchEnables(_ direction: XDMADirection) -> UInt32 {
        var v: UInt32 = Control.ieDescriptorStopped.mask | Control.ieDescriptorCompleted.mask | Control.ieAlignMismatch.mask
            | Control.ieMagicStopped.mask | Control.ieInvalidLength.mask | Control.ieIdleStopped.mask
            | Control.ieReadError.mask | Control.ieDescriptorError.mask
        if direction == .h2c { v |= Control.ieWriteError.mask }
        return v
    }

    /// The status bits that mean the engine stopped on an error, per direction (full 5-bit groups).
    public static func errorMask(_ direction: XDMADirection) -> UInt32 {
        var v: UInt32 = Status.alignMismatch.mask | Status.magicStopped.mask | Status.invalidLength.mask
            | Status.readError.mask | Status.descriptorError.mask
        if direction == .h2c { v |= Status.writeError.mask }
        return v
    }

    /// The interrupt mask for interrupt completion: every cause except idle_stopped.
    public static func interruptMaskForCompletion(_ direction: XDMADirection) -> UInt32 {
        errorMask(direction) | Status.descriptorStopped.mask | Status.descriptorCompleted.mask
    }
}

/// The registers of one engine, placed at its channel and SGDMA block (computed once per engine,
/// so the hot path passes ready declarations).
public struct XDMAEngineRegisters: Sendable, Hashable {
    /// Channel identifier.
    public let identifier: Register<UInt32>
    /// Control (RW).
    public let control: Register<UInt32>
    /// Control (W1S).
    public let controlSet: Register<UInt32>
    /// Control (W1C).
    public let controlClear: Register<UInt32>
    /// Status (RW1C).
    public let status: Register<UInt32>
    /// Status (read clears).
    public let statusReadClear: Register<UInt32>
    /// Completed descriptor count.
    public let completedDescriptorCount: Register<UInt32>
    /// Alignments.
    public let alignments: Register<UInt32>
    /// Poll-mode writeback address low.
    public let pollWritebackLow: Register<UInt32>
    /// Poll-mode writeback address high.
    public let pollWritebackHigh: Register<UInt32>
    /// Interrupt enable mask (RW).
    public let interruptMask: Register<UInt32>
    /// Performance control.
    public let performanceControl: Register<UInt32>
    /// Performance cycles low.
    public let performanceCyclesLow: Register<UInt32>
    /// Performance cycles high.
    public let performanceCyclesHigh: Register<UInt32>
    /// Performance data low.
    public let performanceDataLow: Register<UInt32>
    /// Performance data high.
    public let performanceDataHigh: Register<UInt32>
    /// SGDMA identifier.
    public let sgdmaIdentifier: Register<UInt32>
    /// First descriptor address low.
    public let descriptorLow: Register<UInt32>
    /// First descriptor address high.
    public let descriptorHigh: Register<UInt32>
    /// First descriptor adjacent count.
    public let descriptorAdjacent: Register<UInt32>
    /// Descriptor credits.
    public let descriptorCredits: Register<UInt32>

    /// Places the channel and SGDMA registers of `direction`'s `channel`.
    public init(_ direction: XDMADirection, channel: Int) {
        precondition((0..<XDMARegisters.maxChannels).contains(channel), "XDMA channels are 0...3")
        let c = XDMARegisters.channelBlock(direction, channel: channel)
        let s = XDMARegisters.sgdmaBlock(direction, channel: channel)
        let prefix = "\(direction)\(channel)_"
        typealias C = XDMARegisters.Channel
        typealias G = XDMARegisters.SGDMA
        func place(_ r: Register<UInt32>, _ base: Int) -> Register<UInt32> { r.advanced(by: base, name: prefix + r.name) }
        identifier = place(C.identifier, c)
        control = place(C.control, c)
        controlSet = place(C.controlSet, c)
        controlClear = place(C.controlClear, c)
        status = place(C.status, c)
        statusReadClear = place(C.statusReadClear, c)
        completedDescriptorCount = place(C.completedDescriptorCount, c)
        alignments = place(C.alignments, c)
        pollWritebackLow = place(C.pollWritebackLow, c)
        pollWritebackHigh = place(C.pollWritebackHigh, c)
        interruptMask = place(C.interruptMask, c)
        performanceControl = place(C.performanceControl, c)
        performanceCyclesLow = place(C.performanceCyclesLow, c)
        performanceCyclesHigh = place(C.performanceCyclesHigh, c)
        performanceDataLow = place(C.performanceDataLow, c)
        performanceDataHigh = place(C.performanceDataHigh, c)
        sgdmaIdentifier = place(G.identifier, s)
        descriptorLow = place(G.descriptorLow, s)
        descriptorHigh = place(G.descriptorHigh, s)
        descriptorAdjacent = place(G.descriptorAdjacent, s)
        descriptorCredits = place(G.descriptorCredits, s)
    }
}
