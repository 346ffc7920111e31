import Busmaster

#if canImport(Glibc)
    import Glibc
#endif

/// The devices of an `lspci -x/-xxx/-xxxx` dump file as a ``PCIPlatform`` (name "dump"),
/// enumerated through libpci's dump method with pci.ids names, BAR sizes from a sidecar
/// file (``PCIBARSizes``), and read-only config access on ``open(_:)``.
public final class PCIDumpPlatform: PCIPlatform {
    public var name: String { "dump" }
    /// The dump file.
    public let path: String
    /// The sidecar file whose sizes were applied, if any.
    public let barSizesPath: String?
    /// The checked dump.
    public let file: PCIDumpFile
    private let infos: [PCIDeviceInfo]

    /// Reads `path` (checked line by line, then enumerated through libpci).
    ///
    /// - Parameters:
    ///   - barSizes: a sidecar file; nil = ``PCIBARSizes/sidecarPath(forDump:)`` if it exists.
    ///   - idsFile: pci.ids for names (nil = the default).
    ///   - names: whether to look names up.
    public init(path: String, barSizes: String? = nil, idsFile: String? = nil, names: Bool = true) throws {
        self.path = path
        let session = try LibPCISession(source: .dump(path: path), idsFile: idsFile ?? PCINameDatabase.defaultIDsFile)
        defer { session.close() }
        file = session.dump!
        let sidecar = barSizes ?? {
            let p = PCIBARSizes.sidecarPath(forDump: path)
            return access(p, R_OK) == 0 ? p : nil
        }()
        barSizesPath = sidecar
        let sizes = try sidecar.map { try PCIBARSizes(contentsOf: $0) } ?? PCIBARSizes()
        var infos = try session.devices(names: names)
        for entry in sizes.entries {
            guard let i = infos.firstIndex(where: { $0.address == entry.address }) else {
                throw LibPCIError.malformed(path: sizes.path, line: entry.line, message: "\(entry.address) is not in \(path)")
            }
            infos[i] = try Self.apply(entry, to: infos[i], file: sizes.path)
        }
        self.infos = infos
    }

    /// Sets one BAR's size, checking that the dump implements that BAR and that its address fits the size.
    static func apply(_ entry: PCIBARSizes.Entry, to info: PCIDeviceInfo, file: String) throws -> PCIDeviceInfo {
        var info = info
        func fail(_ m: String) -> LibPCIError { .malformed(path: file, line: entry.line, message: m) }
        let index = entry.bar
        if let j = info.bars.firstIndex(where: { $0.index == index }) {
            guard info.bars[j].address % entry.size == 0 else {
                throw fail(
                    "BAR \(index) of \(info.address) at 0x\(String(info.bars[j].address, radix: 16)) is not aligned to "
                        + "the size 0x\(String(entry.size, radix: 16)), so the size is wrong")
            }
            info.bars[j].size = entry.size
        } else if info.bars.contains(where: { $0.is64Bit && $0.index == index - 1 }) {
            throw fail("BAR \(index) of \(info.address) is the upper half of 64-bit BAR \(index - 1); give the size for BAR \(index - 1)")
        } else {
            throw fail("BAR \(index) of \(info.address) is not implemented in the dump (its register reads 0)")
        }
        return info
    }

    public func devices() throws -> [PCIDeviceInfo] { infos }

    /// A read-only device whose config space is the dumped bytes.
    public func open(_ address: PCIAddress) throws -> PCIDevice {
        guard let info = infos.first(where: { $0.address == address }), let d = file.devices.first(where: { $0.address == address }) else {
            throw BusmasterError.noSuchDevice("\(address) in \(path)")
        }
        return PCIDevice(backend: DumpDeviceBackend(info: info, config: d.config))
    }
}
