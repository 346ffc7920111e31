import Busmaster

/// Which BAR plays which XDMA role (§1.2).
public struct XDMABARLayout: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The DMA ("config"/"control") BAR holding the registers of §2.
    public var dma: Int
    /// The AXI4-Lite master ("user") BAR, if the IP has one.
    public var user: Int?
    /// The DMA bypass BAR, if the IP has one.
    public var bypass: Int?
    /// BARs whose 0x2000/0x3000 were read while searching (for diagnostics).
    public var probed: [Int]

    /// Creates a layout.
    public init(dma: Int, user: Int?, bypass: Int?, probed: [Int]) {
        self.dma = dma
        self.user = user
        self.bypass = bypass
        self.probed = probed
    }

    /// A readable one-line summary.
    public var description: String {
        "DMA BAR \(dma), user BAR \(user.map(String.init) ?? "none"), bypass BAR \(bypass.map(String.init) ?? "none")"
    }
}

/// Finds the DMA BAR by its identifier registers and classifies the other BARs (§1.3).
public enum XDMABARLocator {
    /// Whether the IRQ-block (0x2000) and config-block (0x3000) identifiers mark a DMA BAR:
    /// `0x1FC2xxxx` and `0x1FC3xxxx`.
    public static func isDMABAR(irqIdentifier: UInt32, configIdentifier: UInt32) -> Bool {
        matches(irqIdentifier, target: XDMARegisters.Target.irqBlock)
            && matches(configIdentifier, target: XDMARegisters.Target.configBlock)
    }

    static func matches(_ id: UInt32, target: UInt32) -> Bool {
        XDMARegisters.Identifier.subsystem.extract(from: id) == XDMARegisters.Identifier.subsystemValue
            && XDMARegisters.Identifier.target.extract(from: id) == target
    }

    /// The order in which BARs are probed: memory BARs of exactly 64 KiB first, then other
    /// memory BARs of at least 32 KiB (or of unknown size), each group in index order.
    public static func candidates(_ bars: [BARInfo]) -> [Int] {
        let memory = bars.filter { $0.kind == .memory }
        let exact = memory.filter { $0.size == UInt64(XDMARegisters.dmaBARSize) }.map(\.index)
        let others = memory.filter {
            $0.size != UInt64(XDMARegisters.dmaBARSize) && ($0.size == 0 || $0.size >= UInt64(XDMARegisters.minimumDMABARSize))
        }.map(\.index)
        return exact + others
    }

    /// Classifies the BARs around the DMA BAR by position among the present memory BARs
    /// (works for 32- and 64-bit layouts): the one just before the DMA BAR is the user
    /// (AXI-Lite) BAR, the one just after it the bypass BAR.
    public static func classify(presentBARs: [Int], dma: Int) -> (user: Int?, bypass: Int?) {
        let sorted = presentBARs.sorted()
        guard let i = sorted.firstIndex(of: dma) else { return (nil, nil) }
        let user = i > 0 ? sorted[i - 1] : nil
        let bypass = i + 1 < sorted.count ? sorted[i + 1] : nil
        return (user, bypass)
    }

    /// Locates the DMA BAR of `device`. With `dmaBAR` the caller names it; its identifiers are
    /// still checked, and the user/bypass BARs are still classified.
    public static func locate(_ device: PCIDevice, dmaBAR: Int? = nil) throws(XDMAError) -> XDMABARLayout {
        let info = device.info
        let present = info.bars.filter { $0.kind == .memory }.map(\.index)
        let vendor: UInt16
        do { vendor = try device.config.read(ConfigRegisters.vendorID) } catch {
            throw .deviceLost("config space could not be read: \(error)")
        }
        if vendor == 0xFFFF { throw .deviceLost("config space vendor ID reads 0xFFFF") }

        var probed: [Int] = []
        var notes: [String] = []
        var allOnes = 0

        func probe(_ index: Int) throws(XDMAError) -> Bool {
            let region: MMIORegion
            do { region = try device.bar(index) } catch {
                notes.append("BAR \(index): cannot map (\(error))")
                return false
            }
            guard region.size >= XDMARegisters.minimumDMABARSize else {
                notes.append("BAR \(index): \(region.size) bytes, smaller than the 0x8000 an XDMA DMA BAR needs")
                return false
            }
            probed.append(index)
            let irq = region.read(XDMARegisters.IRQ.identifier)
            let cfg = region.read(XDMARegisters.Config.identifier)
            if irq == XDMARegisters.Identifier.deviceLostValue && cfg == XDMARegisters.Identifier.deviceLostValue { allOnes += 1 }
            if isDMABAR(irqIdentifier: irq, configIdentifier: cfg) { return true }
            notes.append("BAR \(index): 0x2000 reads 0x\(hex32(irq)), 0x3000 reads 0x\(hex32(cfg))")
            return false
        }

        func layout(_ dma: Int) -> XDMABARLayout {
            let (user, bypass) = classify(presentBARs: present, dma: dma)
            return XDMABARLayout(dma: dma, user: user, bypass: bypass, probed: probed)
        }

        if let named = dmaBAR {
            guard present.contains(named) else {
                throw .invalidRequest("BAR \(named) is not a memory BAR of \(info.address) (memory BARs: \(present.map(String.init).joined(separator: ", ")))")
            }
            if try probe(named) { return layout(named) }
            if allOnes > 0 { throw .deviceLost("BAR \(named) reads 0xFFFFFFFF at 0x2000 and 0x3000") }
            throw .notXDMA("\(notes.joined(separator: "; ")); an XDMA DMA BAR reads 0x1FC2xxxx at 0x2000 and 0x1FC3xxxx at 0x3000")
        }
        let order = candidates(info.bars)
        guard !order.isEmpty else {
            throw .dmaBARNotFound("\(info.address) has no memory BAR of at least 32 KiB (BARs: \(info.bars.map(\.summary).joined(separator: "; ")))")
        }
        for index in order where try probe(index) { return layout(index) }
        if allOnes == probed.count && !probed.isEmpty {
            throw .deviceLost("every candidate BAR reads 0xFFFFFFFF at 0x2000/0x3000")
        }
        throw .notXDMA(
            "no BAR carries the XDMA identifiers 0x1FC2xxxx at 0x2000 and 0x1FC3xxxx at 0x3000 (\(notes.joined(separator: "; "))); "
                + "name the DMA BAR explicitly if the IP is customised")
    }
}
