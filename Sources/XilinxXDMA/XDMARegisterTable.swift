import Busmaster

/// The XDMA DMA-BAR register map as a table ({name, offset, width, access, description})
/// for diagnostics tools: register dumps, `reg_rw`-style access by name, documentation.
public enum XDMARegisterTable {
    /// Registers of one block placed at `base`, named `prefix` + datasheet name.
    static func place(_ registers: [Register<UInt32>], at base: Int, prefix: String) -> [RegisterDescriptor] {
        registers.map { $0.advanced(by: base, name: prefix + $0.name).descriptor }
    }

    /// The IRQ block, including all user and channel vector registers.
    public static var irqBlock: [RegisterDescriptor] {
        typealias I = XDMARegisters.IRQ
        var list = [I.identifier, I.userEnable, I.userEnableSet, I.userEnableClear, I.channelEnable, I.channelEnableSet,
                    I.channelEnableClear, I.userRequest, I.channelRequest, I.userPending, I.channelPending].map(\.descriptor)
        list += (0..<I.userVectorRegisters).map { I.userVectorRegister(for: $0 * I.fieldsPerVectorRegister).descriptor }
        list += (0..<I.channelVectorRegisters).map { I.channelVectorRegister(for: $0 * I.fieldsPerVectorRegister).descriptor }
        return list
    }

    /// The config block.
    public static var configBlock: [RegisterDescriptor] { XDMARegisters.Config.all.map(\.descriptor) }

    /// The SGDMA common block.
    public static var sgdmaCommonBlock: [RegisterDescriptor] { XDMARegisters.SGDMACommon.all.map(\.descriptor) }

    /// The channel and SGDMA registers of one engine.
    public static func engine(_ direction: XDMADirection, channel: Int) -> [RegisterDescriptor] {
        let prefix = "\(direction)\(channel)_"
        return place(XDMARegisters.Channel.all, at: XDMARegisters.channelBlock(direction, channel: channel), prefix: prefix)
            + place(XDMARegisters.SGDMA.all, at: XDMARegisters.sgdmaBlock(direction, channel: channel), prefix: prefix)
    }

    /// The whole map for the given engines (default: all four channels in both directions),
    /// sorted by offset.
    public static func all(engines: [XDMAEngineID]? = nil) -> [RegisterDescriptor] {
        let ids = engines ?? XDMADirection.allCases.flatMap { d in (0..<XDMARegisters.maxChannels).map { XDMAEngineID(d, $0) } }
        let list = irqBlock + configBlock + sgdmaCommonBlock + ids.flatMap { engine($0.direction, channel: $0.channel) }
        return list.sorted { $0.offset < $1.offset }
    }

    /// Looks a register up by name (case-insensitive), e.g. `H2C0_CONTROL` or `USER_INT_ENABLE`.
    public static func named(_ name: String, engines: [XDMAEngineID]? = nil) -> RegisterDescriptor? {
        let key = name.uppercased()
        return all(engines: engines).first { $0.name.uppercased() == key }
    }
}
