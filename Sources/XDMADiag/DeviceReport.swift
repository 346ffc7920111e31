import Busmaster
import DiagSupport
import XilinxXDMA

/// Everything `info` shows about an open XDMA card.
struct DeviceReport: Codable {
    /// One BAR and its XDMA role.
    struct BAR: Codable {
        /// Index.
        var index: Int
        /// `dma`, `user`, `bypass` or `unused`.
        var role: String
        /// Size in bytes.
        var size: UInt64
        /// lspci-style summary.
        var summary: String
    }

    /// One engine.
    struct Engine: Codable {
        /// `H2C0` …
        var name: String
        /// `MM` or `ST`.
        var interface: String
        /// IP version field.
        var version: Int
        /// Raw channel identifier.
        var identifier: String
        /// Address alignment in bytes.
        var addressAlignment: Int
        /// Length granularity in bytes.
        var lengthGranularity: Int
        /// Card address bits.
        var addressBits: Int
        /// Index in the IRQ block.
        var interruptIndex: Int
    }

    /// What the PCI Express capability says.
    struct Link: Codable {
        /// Current link speed.
        var speed: String
        /// Negotiated lanes.
        var width: Int
        /// Maximum speed.
        var maxSpeed: String
        /// Maximum lanes.
        var maxWidth: Int
        /// Max payload size in effect (bytes).
        var maxPayload: Int
        /// Max payload size supported (bytes).
        var maxPayloadSupported: Int
        /// Max read request size (bytes).
        var maxReadRequest: Int
    }

    /// An interrupt capability.
    struct InterruptCapability: Codable {
        /// Vectors the function offers.
        var vectors: Int
        /// Whether it is enabled now.
        var enabled: Bool
    }

    /// PCI address.
    var address: String
    /// `10ee:903f`.
    var ids: String
    /// lspci-style one-liner.
    var summary: String
    /// IP version field and its Vivado release.
    var ipVersion: Int
    /// The release the version stands for.
    var ipRelease: String
    /// Config block identifier.
    var configIdentifier: String
    /// Datapath width in bits.
    var datapathBits: Int
    /// MPS the IP reports (config block).
    var maxPayloadBytes: Int
    /// MRRS the IP reports (config block).
    var maxReadRequestBytes: Int
    /// System ID.
    var systemID: String
    /// BARs.
    var bars: [BAR]
    /// Engines.
    var engines: [Engine]
    /// PCIe link (nil without the capability).
    var link: Link?
    /// MSI capability.
    var msi: InterruptCapability?
    /// MSI-X capability.
    var msix: InterruptCapability?
    /// INTx pin (`INTA`…), nil when none.
    var intxPin: String?
    /// User interrupt lines.
    var userInterrupts: Int
    /// Completion the driver uses.
    var completion: String
    /// Card memory the tool assumes (nil: unknown).
    var cardMemory: UInt64?
    /// Notes from opening.
    var notes: [String]

    /// Gathers the report from an open connection (config space reads only).
    static func gather(_ c: XDMAConnection) throws -> DeviceReport {
        let x = c.xdma
        let info = c.pci.info
        let cfg = x.configuration
        // The Vivado release the config block's version field stands for (same table as the engines').
        let release = XDMAEngineInfo(
            id: XDMAEngineID(.h2c, 0), kind: .memoryMapped, version: cfg.version, identifier: cfg.identifier, alignments: .fallback,
            interruptIndex: 0
        ).ipRelease
        let bars = info.bars.map { b -> BAR in
            let role = b.index == x.bars.dma ? "dma" : b.index == x.bars.user ? "user" : b.index == x.bars.bypass ? "bypass" : "unused"
            return BAR(index: b.index, role: role, size: b.size, summary: b.summary)
        }
        let engines = x.engines.map { e in
            Engine(
                name: e.id.description, interface: e.kind.description, version: e.info.version, identifier: Format.hex32(UInt64(e.info.identifier)),
                addressAlignment: e.info.alignments.addressAlignment, lengthGranularity: e.info.alignments.lengthGranularity,
                addressBits: e.info.alignments.addressBits, interruptIndex: e.info.interruptIndex)
        }
        typealias E = PCIeCapabilityRegisters.Express
        typealias M = PCIeCapabilityRegisters.MSI
        typealias X = PCIeCapabilityRegisters.MSIX
        var link: Link? = nil
        var msi: InterruptCapability? = nil
        var msix: InterruptCapability? = nil
        let config = c.pci.config
        if let cap = try config.capability(PCICapability.pciExpress) {
            let devcap = try PCIeCapabilityRegisters.read(config, E.deviceCapabilities, at: cap.offset)
            let devctl = try PCIeCapabilityRegisters.read(config, E.deviceControl, at: cap.offset)
            let lnkcap = try PCIeCapabilityRegisters.read(config, E.linkCapabilities, at: cap.offset)
            let lnksta = try PCIeCapabilityRegisters.read(config, E.linkStatus, at: cap.offset)
            link = Link(
                speed: PCIeCapabilityRegisters.speedName(Int(E.linkSpeed.extract(from: lnksta))), width: Int(E.linkWidth.extract(from: lnksta)),
                maxSpeed: PCIeCapabilityRegisters.speedName(Int(E.maxLinkSpeed.extract(from: lnkcap))),
                maxWidth: Int(E.maxLinkWidth.extract(from: lnkcap)), maxPayload: 128 << Int(E.maxPayload.extract(from: devctl)),
                maxPayloadSupported: 128 << Int(E.maxPayloadSupported.extract(from: devcap)),
                maxReadRequest: 128 << Int(E.maxReadRequest.extract(from: devctl)))
        }
        if let cap = try config.capability(PCICapability.msi) {
            let ctl = try PCIeCapabilityRegisters.read(config, M.messageControl, at: cap.offset)
            msi = InterruptCapability(vectors: 1 << Int(M.multipleMessageCapable.extract(from: ctl)), enabled: M.enable.isSet(in: ctl))
        }
        if let cap = try config.capability(PCICapability.msix) {
            let ctl = try PCIeCapabilityRegisters.read(config, X.messageControl, at: cap.offset)
            msix = InterruptCapability(vectors: Int(X.tableSize.extract(from: ctl)) + 1, enabled: X.enable.isSet(in: ctl))
        }
        let pin = info.interruptPin
        return DeviceReport(
            address: info.address.description, ids: info.idString, summary: info.summaryLine, ipVersion: cfg.version,
            ipRelease: release, configIdentifier: Format.hex32(UInt64(cfg.identifier)), datapathBits: cfg.datapathBits,
            maxPayloadBytes: cfg.maxPayloadBytes, maxReadRequestBytes: cfg.maxReadRequestBytes,
            systemID: "0x" + hexDigits(cfg.systemID, 4), bars: bars, engines: engines, link: link, msi: msi, msix: msix,
            intxPin: (1...4).contains(pin) ? "INT" + String(UnicodeScalar(UInt8(64) + pin)) : nil,
            userInterrupts: x.userInterrupts.count, completion: c.completionDescription, cardMemory: c.cardMemory, notes: x.notes)
    }

    /// The report as text.
    var text: String {
        var out = summary + "\n"
        out += "XDMA IP version \(ipVersion) (\(ipRelease)); config block identifier \(configIdentifier); system ID \(systemID)\n"
        out += "BARs:\n"
        for b in bars {
            let role: String
            switch b.role {
            case "dma": role = "DMA (control) registers"
            case "user": role = "user (AXI4-Lite master)"
            case "bypass": role = "DMA bypass (AXI-MM)"
            default: role = "unused by XDMA"
            }
            out += "  BAR\(b.index)  \(role.padding(toLength: 24, withPad: " ", startingAt: 0)) \(b.summary)\n"
        }
        out += "Engines:\n"
        if engines.isEmpty { out += "  none\n" }
        for e in engines {
            out += "  \(e.name)  \(e.interface)  v\(e.version)  id \(e.identifier)  alignment \(e.addressAlignment) B, granularity \(e.lengthGranularity) B, "
                + "\(e.addressBits) address bits, interrupt index \(e.interruptIndex)\n"
        }
        out += "Datapath: \(datapathBits) bits; IP reports MPS \(maxPayloadBytes) B, MRRS \(maxReadRequestBytes) B\n"
        if let l = link {
            out += "PCIe link: \(l.speed) x\(l.width) (capable of \(l.maxSpeed) x\(l.maxWidth)); "
                + "MPS \(l.maxPayload) B (supported \(l.maxPayloadSupported) B), MRRS \(l.maxReadRequest) B\n"
        } else {
            out += "PCIe link: no PCI Express capability\n"
        }
        var irq: [String] = []
        if let m = msix { irq.append("MSI-X \(m.vectors) vectors (\(m.enabled ? "enabled" : "disabled"))") }
        if let m = msi { irq.append("MSI \(m.vectors) vectors (\(m.enabled ? "enabled" : "disabled"))") }
        irq.append(intxPin.map { "INTx pin \($0)" } ?? "no INTx pin")
        out += "Interrupts: \(irq.joined(separator: ", ")); \(userInterrupts) user interrupt lines; completion: \(completion)\n"
        out += "Card memory: \(cardMemory.map { Format.size(Int($0)) } ?? "unknown (give --card-memory to have transfers checked against it)")"
        for n in notes { out += "\nNote: \(n)" }
        return out
    }
}
