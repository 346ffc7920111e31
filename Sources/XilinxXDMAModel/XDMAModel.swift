#if canImport(Glibc)
    import Glibc
#endif
import Busmaster
import BusmasterSimulation

/// A behavioural model of the AMD/Xilinx XDMA IP ("DMA/Bridge Subsystem for PCI Express",
/// PG195), written from the chip sheet `xdma.md`: the DMA BAR with every register block,
/// H2C/C2H engines for AXI-MM card memory and AXI-Stream (loopback or source/sink),
/// descriptor fetch with the adjacency rules, Control/Status semantics, interrupts by
/// MSI-X, MSI or INTx, poll-mode and C2H-stream writebacks, user interrupts, perf counters,
/// credits and halt, an AXI-Lite user BAR and a bypass BAR onto card memory.
///
/// ```swift
/// let board = SimulatedPlatform(mode: .stepped)
/// let model = try XDMAModel()
/// let device = try board.open(board.plug(model))
/// ```
///
/// Public methods called from outside model code (stream push, user interrupts, faults,
/// counters) take the platform lock themselves, so the model may be shared between threads
/// once plugged in; never call them inside `SimulatedPlatform.withModelsPaused` (the lock is
/// not recursive).
public final class XDMAModel: DeviceModel, @unchecked Sendable {
    typealias R = XDMAModelRegisters

    /// How this instance was built.
    public let settings: XDMAModelConfiguration
    /// Identity, BARs and interrupt capabilities presented to the platform.
    public let configuration: ModelConfiguration
    /// Index of the DMA (config) BAR.
    public let dmaBAR: Int
    /// Index of the AXI-Lite (user) BAR, if the layout has one.
    public let userBAR: Int?
    /// Index of the bypass BAR, if the layout has one.
    public let bypassBAR: Int?

    var context: DeviceContext?
    let card: XDMACardMemory
    var h2c: [XDMAEngine] = []
    var c2h: [XDMAEngine] = []
    /// H2C engines then C2H engines (engine index order).
    var engines: [XDMAEngine] = []

    // IRQ block
    var userEnable: UInt32 = 0
    var channelEnable: UInt32 = 0
    var userVectors = [UInt32](repeating: 0, count: R.IRQ.userVectorRegisters)
    var channelVectors = [UInt32](repeating: 0, count: R.IRQ.channelVectorRegisters)
    /// usr_irq_req lines driven by user logic.
    var userLines: UInt32 = 0
    var engineSources: UInt32 = 0
    var lastChannelRequest: UInt32 = 0
    var lastUserRequest: UInt32 = 0
    var intxLevel = false

    // Config block
    var pcieControl: UInt32 = 0
    var axiMaxPayloadProgrammed: UInt32 = 0
    var axiMaxReadRequestProgrammed: UInt32 = 0
    var writeFlushTimeout: UInt32 = 0

    // SGDMA common
    var haltBits: UInt32 = 0
    var creditModeBits: UInt32 = 0

    // MSI-X table storage (address lo, hi, data, control per entry)
    var msixTable: [UInt32] = []

    // User logic
    var scratchRegisters = [UInt32](repeating: 0, count: XDMAModelUserBAR.scratchCount)
    var c2hSources: [XDMAStreamFIFO?] = []
    var h2cSinks: [XDMAStreamFIFO?] = []

    // Faults, counters, log
    var faultState = XDMAModelFaults()
    /// The glitch fault returns all-ones when this flips to true.
    var glitchPhase = false
    var stats = XDMAModelStatistics()
    var eventLog: XDMAEventLog
    private var lintedOnce = Set<String>()
    private var scratchBuffer: UnsafeMutableRawPointer
    private var scratchSize: Int

    /// Creates a model; throws when a setting is out of range (the message says what is allowed).
    public init(_ settings: XDMAModelConfiguration = XDMAModelConfiguration()) throws {
        try settings.validate()
        self.settings = settings
        let stride = settings.uses64BitBARs ? 2 : 1
        enum Role { case lite, dma, bypass }
        let roles: [Role]
        switch settings.barLayout {
        case .dmaOnly: roles = [.dma]
        case .liteAndDMA: roles = [.lite, .dma]
        case .liteDMAAndBypass: roles = [.lite, .dma, .bypass]
        case .dmaAndBypass: roles = [.dma, .bypass]
        }
        var bars: [ModelBAR] = []
        var dma = 0
        var user: Int?
        var bypass: Int?
        for (i, role) in roles.enumerated() {
            let index = i * stride
            switch role {
            case .dma:
                dma = index
                bars.append(ModelBAR(index: index, size: R.dmaBARSize, is64Bit: settings.uses64BitBARs))
            case .lite:
                user = index
                bars.append(ModelBAR(index: index, size: settings.userBARSize, is64Bit: settings.uses64BitBARs))
            case .bypass:
                bypass = index
                let size = settings.bypassBARSize ?? settings.defaultBypassBARSize
                bars.append(ModelBAR(index: index, size: size, is64Bit: settings.uses64BitBARs, isPrefetchable: settings.uses64BitBARs))
            }
        }
        dmaBAR = dma
        userBAR = user
        bypassBAR = bypass
        configuration = ModelConfiguration(
            vendorID: settings.vendorID, deviceID: settings.deviceID, classCode: settings.classCode, revision: settings.revision,
            subsystemVendorID: settings.subsystemVendorID, subsystemID: settings.subsystemID, bars: bars,
            interruptPin: settings.interruptPin,
            msi: settings.msiVectors > 0 ? ModelMSI(vectors: settings.msiVectors, is64Bit: true, perVectorMasking: false) : nil,
            msix: settings.msixVectors > 0
                ? ModelMSIX(vectors: settings.msixVectors, tableBAR: dma, tableOffset: R.MSIX.tableOffset, pbaBAR: dma, pbaOffset: R.MSIX.pbaOffset)
                : nil,
            pcie: ModelPCIe(linkSpeed: settings.linkSpeed, linkWidth: settings.linkWidth, maxPayloadCode: settings.maxPayloadCode))
        card = XDMACardMemory(size: settings.cardMemorySize)
        eventLog = XDMAEventLog(capacity: settings.eventLogCapacity)
        scratchSize = settings.bytesPerEvent
        scratchBuffer = UnsafeMutableRawPointer.allocate(byteCount: scratchSize, alignment: 64)
        for (ch, kind) in settings.h2cEngines.enumerated() {
            h2c.append(XDMAEngine(id: .h2c(ch), index: ch, isStream: kind == .stream, model: self))
        }
        for (ch, kind) in settings.c2hEngines.enumerated() {
            c2h.append(XDMAEngine(id: .c2h(ch), index: h2c.count + ch, isStream: kind == .stream, model: self))
        }
        engines = h2c + c2h
        c2hSources = settings.c2hEngines.map { $0 == .stream ? XDMAStreamFIFO() : nil }
        h2cSinks = settings.h2cEngines.enumerated().map { ch, kind in
            kind == .stream && !loopsBack(ch) && !settings.discardsStreamSink ? XDMAStreamFIFO() : nil
        }
        resetRegisters()
    }

    deinit { scratchBuffer.deallocate() }

    // MARK: DeviceModel

    /// Keeps the platform's context (DMA, interrupts, clock, lints).
    public func attach(_ context: DeviceContext) { self.context = context }

    /// Function-level reset of the IP: every register back to its reset value, engines idle,
    /// pending work dropped, stuck engines released. Card memory, stream FIFOs and the user
    /// interrupt lines belong to user logic and are kept.
    public func reset() {
        for e in engines { e.reset() }
        resetRegisters()
        updateInterrupts()
    }

    private func resetRegisters() {
        userEnable = 0
        channelEnable = 0
        for i in userVectors.indices { userVectors[i] = 0 }
        for i in channelVectors.indices { channelVectors[i] = 0 }
        engineSources = 0
        lastChannelRequest = 0
        lastUserRequest = 0
        pcieControl = R.Config.relaxedOrdering.mask
        axiMaxPayloadProgrammed = R.Config.programmedSizeReset
        axiMaxReadRequestProgrammed = R.Config.programmedSizeReset
        writeFlushTimeout = 0
        haltBits = 0
        creditModeBits = 0
        msixTable = []
        for _ in 0..<settings.msixVectors {
            msixTable += [0, 0, 0, R.MSIX.vectorControlReset]
        }
    }

    /// MSI / MSI-X / INTx enables changed: re-evaluate the interrupt outputs.
    public func configurationChanged() { updateInterrupts() }

    /// A register (DMA BAR), AXI-Lite (user BAR) or card-memory (bypass BAR) read.
    public func read(bar: Int, offset: Int, width: AccessWidth) -> UInt64 {
        if bar == dmaBAR {
            guard width == .dword else {
                lint("\(width) read at DMA BAR offset 0x\(hex(offset)); the XDMA registers take aligned 32-bit accesses only (reads 0)")
                return 0
            }
            if faultState.glitchEveryOtherRead {
                glitchPhase.toggle()
                if glitchPhase { return 0xFFFF_FFFF }
            }
            return UInt64(readDMA(offset))
        }
        if bar == userBAR { return readUser(offset, width) }
        if bar == bypassBAR { return readBypass(offset, width) }
        return 0
    }

    /// A register (DMA BAR), AXI-Lite (user BAR) or card-memory (bypass BAR) write.
    public func write(bar: Int, offset: Int, width: AccessWidth, value: UInt64) {
        if bar == dmaBAR {
            guard width == .dword else {
                lint("\(width) write at DMA BAR offset 0x\(hex(offset)) ignored; the XDMA registers take aligned 32-bit accesses only")
                return
            }
            writeDMA(offset, UInt32(truncatingIfNeeded: value))
        } else if bar == userBAR {
            writeUser(offset, width, value)
        } else if bar == bypassBAR {
            writeBypass(offset, width, value)
        }
    }

    // MARK: DMA BAR dispatch (§2.0)

    private func decode(_ offset: Int) -> (target: R.Target?, channel: Int, byte: Int) {
        let o = UInt32(truncatingIfNeeded: offset)
        return (R.Target(rawValue: Int(R.target.extract(from: o))), Int(R.channel.extract(from: o)), Int(R.byte.extract(from: o)))
    }

    private func engine(_ list: [XDMAEngine], _ channel: Int) -> XDMAEngine? {
        channel < list.count ? list[channel] : nil
    }

    private func readDMA(_ offset: Int) -> UInt32 {
        let (target, channel, byte) = decode(offset)
        let blockByte = Int(R.blockByte.extract(from: UInt32(offset)))
        switch target {
        case .h2cChannel?, .c2hChannel?:
            if let e = engine(target == .h2cChannel ? h2c : c2h, channel) { return e.readChannel(byte) }
            if byte != R.identifier.offset { lint("read of DMA BAR 0x\(hex(offset)): no such engine (reads 0)") }
            return 0
        case .h2cSGDMA?, .c2hSGDMA?:
            if let e = engine(target == .h2cSGDMA ? h2c : c2h, channel) { return e.readSGDMA(byte) }
            if byte != R.identifier.offset { lint("read of DMA BAR 0x\(hex(offset)): no such SGDMA engine (reads 0)") }
            return 0
        case .irq?: return readIRQ(blockByte)
        case .config?: return readConfig(blockByte)
        case .sgdmaCommon?: return readCommon(blockByte)
        case .msix?: return readMSIX(offset)
        case nil:
            lint("read of reserved DMA BAR offset 0x\(hex(offset)) (target \(offset >> 12); reads 0)")
            return 0
        }
    }

    private func writeDMA(_ offset: Int, _ v: UInt32) {
        let (target, channel, byte) = decode(offset)
        let blockByte = Int(R.blockByte.extract(from: UInt32(offset)))
        switch target {
        case .h2cChannel?, .c2hChannel?:
            if let e = engine(target == .h2cChannel ? h2c : c2h, channel) {
                e.writeChannel(byte, v)
            } else {
                lint("write 0x\(hex(v)) to DMA BAR 0x\(hex(offset)) ignored: no such engine")
            }
        case .h2cSGDMA?, .c2hSGDMA?:
            if let e = engine(target == .h2cSGDMA ? h2c : c2h, channel) {
                e.writeSGDMA(byte, v)
            } else {
                lint("write 0x\(hex(v)) to DMA BAR 0x\(hex(offset)) ignored: no such SGDMA engine")
            }
        case .irq?: writeIRQ(blockByte, v)
        case .config?: writeConfig(blockByte, v)
        case .sgdmaCommon?: writeCommon(blockByte, v)
        case .msix?: writeMSIX(offset, v)
        case nil:
            lint("write 0x\(hex(v)) to reserved DMA BAR offset 0x\(hex(offset)) ignored")
        }
    }

    /// Identifier of a channel-less block.
    func blockIdentifier(_ target: R.Target) -> UInt32 {
        R.idSubsystem.encode(R.subsystemValue) | R.idTarget.encode(UInt32(target.rawValue))
            | R.idVersion.encode(UInt32(settings.ipVersion))
    }

    // MARK: Helpers for the engines

    /// Reports a driver misbehaviour through the platform.
    func lint(_ message: String) { context?.lint("xdma: " + message) }

    /// Reports a misbehaviour once per `key`.
    func lintOnce(_ key: String, _ message: String) {
        if lintedOnce.insert(key).inserted { lint(message) }
    }

    func record(_ event: XDMAModelEvent) { eventLog.append(event) }

    /// A scratch buffer of at least `n` bytes (n ≤ bytesPerEvent).
    func scratch(_ n: Int) -> UnsafeMutableRawPointer {
        if n > scratchSize {
            scratchBuffer.deallocate()
            scratchSize = n
            scratchBuffer = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 64)
        }
        return scratchBuffer
    }

    /// An injected host read error covering [address, address + length), if any.
    func injectedReadError(_ address: UInt64, _ length: Int, descriptor: Bool) -> XDMAModelBusError? {
        guard !faultState.hostReadErrors.isEmpty else { return nil }
        let r = address..<(address &+ UInt64(length))
        return faultState.hostReadErrors.first {
            (descriptor ? $0.descriptorReads : $0.dataReads) && $0.range.overlaps(r)
        }?.error
    }

    /// Whether an injected SLVERR covers the card range.
    func injectedCardSlaveError(_ address: UInt64, _ length: Int, write: Bool) -> Bool {
        guard !faultState.cardSlaveErrors.isEmpty else { return false }
        let r = address..<(address &+ UInt64(max(length, 1)))
        return faultState.cardSlaveErrors.contains { (write ? $0.writes : $0.reads) && $0.range.overlaps(r) }
    }

    /// A posted device write to host memory: a refused one is logged (and recorded by the
    /// platform) and the engine carries on (§4.7). Returns whether it landed.
    @discardableResult
    func hostWrite(at address: UInt64, _ bytes: UnsafeRawBufferPointer, engine: XDMAEngine, what: String) -> Bool {
        if !faultState.droppedHostWrites.isEmpty {
            let r = address..<(address &+ UInt64(bytes.count))
            if faultState.droppedHostWrites.contains(where: { $0.overlaps(r) }) { return false }
        }
        do {
            try context!.dmaWrite(at: address, from: bytes)
            return true
        } catch {
            stats.hostWriteFaults += 1
            lint("\(engine.id) \(what) write was refused (\(error)); a posted write is lost and the engine carries on — was the buffer unmapped while the engine ran?")
            return false
        }
    }

    /// Writes a C2H-stream result slot (§3.4).
    func writeResult(engine: XDMAEngine, slot: UInt64, length: Int, endOfPacket: Bool) {
        if faultState.resultWritebacksToDrop > 0 {
            faultState.resultWritebacksToDrop -= 1
            return
        }
        let word0 = R.ResultWriteback.magic.encode(R.ResultWriteback.magicValue) | (endOfPacket ? R.ResultWriteback.endOfPacket.mask : 0)
        var le = (UInt64(word0) | UInt64(UInt32(truncatingIfNeeded: length)) << 32).littleEndian
        let ok = withUnsafeBytes(of: &le) { hostWrite(at: slot, $0, engine: engine, what: "C2H-ST result writeback") }
        if ok {
            stats.resultWritebacks += 1
            record(.resultWriteback(engine.id, address: slot, length: length, endOfPacket: endOfPacket))
        }
    }

    /// Whether the SGDMA-common halt bit of the engine's channel is set (§2.6).
    func isHalted(_ e: XDMAEngine) -> Bool { haltBits & commonBit(e) != 0 }

    /// Whether credit mode is on for the engine's channel (§2.6).
    func isCreditMode(_ e: XDMAEngine) -> Bool { creditModeBits & commonBit(e) != 0 }

    func commonBit(_ e: XDMAEngine) -> UInt32 {
        e.isH2C ? UInt32(1) << UInt32(e.id.channel) : UInt32(1) << UInt32(R.Common.c2hChannels.shift + e.id.channel)
    }

    // MARK: Streams

    /// H2C channel `ch` feeds C2H channel `ch` (loopback design).
    func loopsBack(_ ch: Int) -> Bool {
        settings.streamLoopback && ch < settings.c2hEngines.count && settings.c2hEngines[ch] == .stream
    }

    /// Where H2C stream channel `ch` puts data: the loopback C2H source or the sink (nil: discard).
    func h2cStreamTarget(channel ch: Int) -> XDMAStreamFIFO? {
        loopsBack(ch) ? c2hSources[ch] : h2cSinks[ch]
    }

    /// The C2H stream source FIFO of channel `ch` (a C2H-ST engine).
    func c2hSource(channel ch: Int) -> XDMAStreamFIFO { c2hSources[ch]! }

    /// H2C data (or a packet end) reached channel `ch`'s target: wake a waiting C2H engine.
    func streamDataArrived(channel ch: Int, from e: XDMAEngine) {
        if loopsBack(ch) { c2h[ch].kick() }
    }

    /// C2H channel `ch` consumed data: wake an H2C engine back-pressured by the loopback FIFO.
    func streamSpaceFreed(channel ch: Int) {
        if ch < h2c.count, h2c[ch].waiting, loopsBack(ch) { h2c[ch].kick() }
    }
}
