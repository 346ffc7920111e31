import Busmaster

/// What the config block (0x3000) reports about the IP and the link.
public struct XDMAConfiguration: Sendable, Hashable, Codable {
    /// Config-block identifier.
    public var identifier: UInt32
    /// IP version field.
    public var version: Int
    /// Datapath width in bits (64, 128, 256 or 512).
    public var datapathBits: Int
    /// PCIe max payload size in effect, in bytes.
    public var maxPayloadBytes: Int
    /// PCIe max read request size in effect, in bytes.
    public var maxReadRequestBytes: Int
    /// System ID (default 0xFF01).
    public var systemID: UInt16
    /// Bus/device/function the endpoint reports.
    public var busDevice: UInt16
    /// MSI enabled (as the IP sees it).
    public var msiEnabled: Bool
    /// MSI-X enabled (as the IP sees it).
    public var msixEnabled: Bool
}

/// An open Xilinx XDMA ("DMA/Bridge Subsystem for PCI Express") device: its DMA engines,
/// user interrupts, user (AXI-Lite) and bypass BARs, on any Busmaster platform.
///
/// ```swift
/// let pci = try platform.open(address)
/// let xdma = try XDMADevice.open(pci, options: XDMAOptions(cardMemorySize: 1 << 30))
/// let buffer = try pci.allocateDMABuffer(size: 1 << 20, direction: .bidirectional)
/// try xdma.engine(.h2c, channel: 0).write(buffer, to: 0)
/// try xdma.engine(.c2h, channel: 0).read(into: buffer, from: 0)
/// ```
public final class XDMADevice: @unchecked Sendable {
    /// The PCI function (the caller keeps ownership; ``close()`` does not close it).
    public let pci: PCIDevice
    /// Which BAR plays which role.
    public let bars: XDMABARLayout
    /// The options the device was opened with.
    public let options: XDMAOptions
    /// What the config block reports.
    public let configuration: XDMAConfiguration
    /// Engines found, H2C first, each direction by channel.
    public let engines: [XDMAEngine]
    /// Remarks from probing (skipped engines, recovered engines, interrupt fallbacks).
    public private(set) var notes: [String]
    /// User interrupt lines.
    public let userInterrupts: XDMAUserInterrupts
    /// Validated register access to the DMA BAR (for diagnostics; the engines use names).
    public let control: XDMABARWindow
    /// The AXI4-Lite (user) BAR, if present.
    public let user: XDMABARWindow?
    /// The DMA bypass BAR, if present.
    public let bypass: XDMABARWindow?
    let state: XDMADeviceState
    private let lock = Lock()
    private var interrupts: Interrupts?
    private var closed = false

    private init(
        pci: PCIDevice, bars: XDMABARLayout, options: XDMAOptions, configuration: XDMAConfiguration, engines: [XDMAEngine],
        notes: [String], state: XDMADeviceState, user: XDMABARWindow?, bypass: XDMABARWindow?
    ) {
        self.pci = pci
        self.bars = bars
        self.options = options
        self.configuration = configuration
        self.engines = engines
        self.notes = notes
        self.state = state
        self.control = XDMABARWindow(role: .dma, region: state.bar, state: state)
        self.user = user
        self.bypass = bypass
        self.userInterrupts = XDMAUserInterrupts(count: options.userInterruptCount, state: state)
    }

    deinit { close() }

    // MARK: Open (§5.1)

    /// Opens the XDMA functions of `pci`: memory and bus mastering on, DMA BAR located by its
    /// identifiers, all interrupts masked, engines probed (gaps skipped), engines left
    /// running by a previous owner recovered, descriptor memory allocated per engine and,
    /// if ``XDMAOptions/interrupts`` names any kind, interrupts enabled (falling back kind by
    /// kind, and to poll mode when none works).
    public static func open(_ pci: PCIDevice, options: XDMAOptions = XDMAOptions()) throws(XDMAError) -> XDMADevice {
        try options.validate()
        do { try pci.enable(memory: true, busMaster: true) } catch {
            throw .invalidRequest("could not enable memory decoding and bus mastering on \(pci.address): \(error)")
        }
        let layout = try XDMABARLocator.locate(pci, dmaBAR: options.dmaBAR)
        let bar: MMIORegion
        do { bar = try pci.bar(layout.dma) } catch { throw .dmaBARNotFound("BAR \(layout.dma) cannot be mapped: \(error)") }
        let state = XDMADeviceState(bar: bar, options: options, platform: pci.backend)
        var notes: [String] = []
        typealias I = XDMARegisters.IRQ
        if state.probeLost(I.identifier) { throw .deviceLost("the IRQ-block identifier reads 0xFFFFFFFF at open") }

        // Mask everything first.
        bar.write(I.channelEnableClear, .max)
        bar.write(I.userEnableClear, .max)

        let configuration = readConfiguration(bar)
        state.datapathBytes = configuration.datapathBits / 8
        let infos = probeEngines(bar, notes: &notes)
        if state.probeLost(I.identifier) { throw .deviceLost("the device stopped responding while engines were probed") }

        // Halt or credit mode left on from before.
        typealias G = XDMARegisters.SGDMACommon
        let bits = infos.reduce(UInt32(0)) { $0 | G.channelBit($1.id.direction, channel: $1.id.channel) }
        let halted = bar.read(G.descriptorHalt) & bits
        let credit = bar.read(G.creditModeEnable) & bits
        if halted != 0 { notes.append("descriptor halt was left on (0x\(hex32(halted))); cleared") }
        if credit != 0 { notes.append("credit mode was left on (0x\(hex32(credit))); turned off") }
        bar.write(G.descriptorHaltClear, bits)
        bar.write(G.creditModeEnableClear, bits)

        var engines: [XDMAEngine] = []
        for info in infos {
            let engine = try XDMAEngine(info: info, state: state, pci: pci)
            if let problem = engine.recoverFromPreviousOwner() {
                notes.append("\(info.id): \(problem); marked dead")
            } else {
                engine.arm(.poll)
            }
            engines.append(engine)
        }
        if state.isLost { throw .deviceLost("the device stopped responding while engines were recovered") }

        func window(_ role: XDMABARWindow.Role, _ index: Int?) -> XDMABARWindow? {
            guard let i = index else { return nil }
            do { return XDMABARWindow(role: role, region: try pci.bar(i), state: state) } catch {
                notes.append("\(role) BAR \(i) could not be mapped: \(error)")
                return nil
            }
        }
        let user = window(.user, layout.user)
        let bypass = window(.bypass, layout.bypass)
        let device = XDMADevice(
            pci: pci, bars: layout, options: options, configuration: configuration, engines: engines, notes: notes, state: state,
            user: user, bypass: bypass)
        let kinds = options.interrupts.filter { $0 != .polling }
        if !kinds.isEmpty {
            do { _ = try device.enableInterrupts(preferring: kinds, engineCompletion: options.completion) } catch {
                device.lock.withLock { device.notes.append("interrupts unavailable (\(error)); engines use poll mode") }
            }
        }
        return device
    }

    static func readConfiguration(_ bar: MMIORegion) -> XDMAConfiguration {
        typealias C = XDMARegisters.Config
        let id = bar.read(C.identifier)
        let width = Int(C.datapathWidthCode.extract(from: bar.read(C.datapathWidth)))
        let msi = bar.read(C.msiEnable)
        return XDMAConfiguration(
            identifier: id, version: Int(XDMARegisters.Identifier.version.extract(from: id)), datapathBits: 64 << min(width, 3),
            maxPayloadBytes: 128 << Int(C.sizeCode.extract(from: bar.read(C.maxPayloadSize))),
            maxReadRequestBytes: 128 << Int(C.sizeCode.extract(from: bar.read(C.maxReadRequestSize))),
            systemID: UInt16(truncatingIfNeeded: bar.read(C.systemID)), busDevice: UInt16(truncatingIfNeeded: bar.read(C.busDevice)),
            msiEnabled: C.msiEnabled.isSet(in: msi), msixEnabled: C.msixEnabled.isSet(in: msi))
    }

    /// Reads the channel and SGDMA identifiers of channels 0…3 per direction (gaps skipped) and
    /// their Alignments registers.
    static func probeEngines(_ bar: MMIORegion, notes: inout [String]) -> [XDMAEngineInfo] {
        typealias ID = XDMARegisters.Identifier
        var found: [(XDMAEngineID, XDMAEngineKind, UInt32, XDMAAlignments)] = []
        for direction in XDMADirection.allCases {
            for ch in 0..<XDMARegisters.maxChannels {
                let regs = XDMAEngineRegisters(direction, channel: ch)
                let id = bar.read(regs.identifier)
                guard ID.subsystem.extract(from: id) == ID.subsystemValue, ID.target.extract(from: id) == direction.channelTarget,
                    ID.channel.extract(from: id) == UInt32(ch)
                else { continue }
                let sg = bar.read(regs.sgdmaIdentifier)
                let consistent = ID.subsystem.extract(from: sg) == ID.subsystemValue && ID.target.extract(from: sg) == direction.sgdmaTarget
                    && ID.channel.extract(from: sg) == UInt32(ch) && ID.stream.extract(from: sg) == ID.stream.extract(from: id)
                if !consistent {
                    notes.append(
                        "\(direction)\(ch): channel identifier 0x\(hex32(id)) but SGDMA identifier 0x\(hex32(sg)) does not match; engine skipped")
                    continue
                }
                let kind: XDMAEngineKind = ID.stream.isSet(in: id) ? .stream : .memoryMapped
                let raw = bar.read(regs.alignments)
                let alignments = XDMAAlignments(register: raw)
                if raw == 0 { notes.append("\(direction)\(ch): Alignments reads 0; assuming 1/1/64") }
                found.append((XDMAEngineID(direction, ch), kind, id, alignments))
            }
        }
        // Interrupt index: H2C channels from bit 0, C2H packed directly above the highest H2C channel.
        let h2cSlots = (found.filter { $0.0.direction == .h2c }.map(\.0.channel).max() ?? -1) + 1
        return found.map { id, kind, raw, alignments in
            XDMAEngineInfo(
                id: id, kind: kind, version: Int(ID.version.extract(from: raw)), identifier: raw, alignments: alignments,
                interruptIndex: id.direction == .h2c ? id.channel : h2cSlots + id.channel)
        }
    }

    // MARK: Engines

    /// The engine for `direction` and `channel`; throws when it does not exist.
    public func engine(_ direction: XDMADirection, channel: Int) throws(XDMAError) -> XDMAEngine {
        try state.check()
        guard let e = engines.first(where: { $0.id.direction == direction && $0.id.channel == channel }) else {
            throw .noSuchEngine(XDMAEngineID(direction, channel), available: engines.map(\.id))
        }
        return e
    }

    /// H2C engines by channel.
    public var h2cEngines: [XDMAEngine] { engines.filter { $0.direction == .h2c } }
    /// C2H engines by channel.
    public var c2hEngines: [XDMAEngine] { engines.filter { $0.direction == .c2h } }

    // MARK: Interrupts

    /// The interrupt kind in use, or nil in poll mode.
    public var interruptKind: InterruptKind? { lock.withLock { interrupts?.kind } }

    /// The vector engine `id` is routed to, when interrupts are enabled.
    public func vector(of id: XDMAEngineID) -> Int? {
        guard let e = engines.first(where: { $0.id == id }) else { return nil }
        return state.router?.engineVector[e.info.interruptIndex]
    }

    /// Enables interrupts, trying `preferring` in order (default MSI-X, MSI, INTx). With
    /// enough MSI-X/MSI vectors every engine and user line gets its own (engine e → vector e,
    /// user n → vector engines + n); with fewer, vectors are shared and served by a
    /// dispatcher. Engines switch to `engineCompletion` (keep `.poll` to use interrupts for
    /// user lines only).
    @discardableResult
    public func enableInterrupts(
        preferring kinds: [InterruptKind] = [.msix, .msi, .intx], engineCompletion: XDMACompletionMode = .interrupt
    ) throws(XDMAError) -> InterruptKind {
        try state.check()
        disableInterrupts()
        let slots = (engines.map(\.info.interruptIndex).max() ?? -1) + 1
        let irq: Interrupts
        do { irq = try pci.enableInterrupts(preferring: kinds, vectors: max(slots + userInterrupts.count, 1)) } catch {
            throw .interrupts("\(error)")
        }
        if irq.kind == .polling {
            lock.withLock { interrupts = irq }
            return .polling
        }
        let statusRegisters = Dictionary(uniqueKeysWithValues: engines.map { ($0.info.interruptIndex, $0.registers.statusReadClear) })
        let state = self.state
        let router = XDMAInterruptRouter(
            interrupts: irq, bar: state.bar, engines: statusRegisters, userCount: userInterrupts.count,
            intxPin: pci.info.interruptPin, userLinesEnabled: { state.userLinesEnabled.load(ordering: .acquiring) },
            onDeviceLost: { state.markLost($0) })
        router.programVectors()
        router.start()
        state.router = router
        lock.withLock { interrupts = irq }
        for e in engines { e.interruptsChanged(mode: engineCompletion) }
        return irq.kind
    }

    /// Disables interrupts; engines fall back to poll-mode completion.
    public func disableInterrupts() {
        let irq: Interrupts? = lock.withLock {
            defer { interrupts = nil }
            return interrupts
        }
        guard let irq else { return }
        state.router?.stop()
        state.router = nil
        if !state.isLost {
            state.bar.write(XDMARegisters.IRQ.channelEnableClear, .max)
        }
        irq.disable()
        for e in engines { e.interruptsChanged(mode: nil) }
    }

    // MARK: Health and shutdown

    /// Whether the device was found removed (registers read all-ones).
    public var isLost: Bool { state.isLost }

    /// Reads the IRQ-block identifier; throws ``XDMAError/deviceLost(_:)`` when it reads all-ones.
    public func checkPresent() throws(XDMAError) {
        try state.check()
        if state.probeLost(XDMARegisters.IRQ.identifier) { throw .deviceLost("the IRQ-block identifier reads 0xFFFFFFFF") }
    }

    /// Stops idle engines, masks every interrupt, disables interrupts and marks the device
    /// closed. The PCI device stays open (the caller owns it). Idempotent.
    public func close() {
        let first: Bool = lock.withLock {
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        // Refuse new requests first, so nothing starts on memory that is about to be released.
        state.markClosed()
        for e in engines { e.shutdown() }
        disableInterrupts()
        if !state.isLost {
            state.bar.write(XDMARegisters.IRQ.channelEnableClear, .max)
            state.bar.write(XDMARegisters.IRQ.userEnableClear, .max)
        }
    }
}
