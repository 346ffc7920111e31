import Busmaster
import CLibPCI
import CPCIShim

/// One libpci access: the live system through sysfs, a fake sysfs tree, or a config-space
/// dump. libpci's fatal errors are recovered (the process keeps running) and thrown as
/// ``LibPCIError/libpci(_:)``; a session that hit one is closed.
///
/// Every call into libpci is serialised process-wide (libpci is not thread-safe).
public final class LibPCISession: @unchecked Sendable {
    /// Where libpci reads devices from.
    public enum Source: Sendable, Hashable {
        /// The running system (`linux-sysfs` method, `/sys/bus/pci`).
        case system
        /// A sysfs-like tree: `path` holds `devices/<dddd:bb:dd.f>/` (e.g. `<root>/bus/pci`).
        case sysfs(path: String)
        /// An `lspci -x/-xxx/-xxxx` dump file.
        case dump(path: String)
    }

    /// The source this session reads.
    public let source: Source
    /// The checked dump, for dump sources that were validated.
    public let dump: PCIDumpFile?
    private var access: UnsafeMutablePointer<pci_access>?

    /// Opens a session.
    ///
    /// - Parameters:
    ///   - source: where devices come from.
    ///   - idsFile: the pci.ids file for names (nil = libpci's default).
    ///   - validate: check a dump file first, for errors with line numbers. Pass false only
    ///     to exercise libpci's own error handling.
    public init(source: Source, idsFile: String? = nil, validate: Bool = true) throws {
        self.source = source
        if case .dump(let path) = source, validate {
            dump = try PCIDumpFile(contentsOf: path)
        } else {
            dump = nil
        }
        access = try libpciLock.withLock {
            guard let a = pcishim_alloc() else { throw LibPCIError.outOfMemory }
            if let idsFile { pcishim_set_id_file(a, idsFile) }
            let rc: Int32
            switch source {
            case .system: rc = pcishim_use_sysfs(a, nil)
            case .sysfs(let path): rc = pcishim_use_sysfs(a, path)
            case .dump(let path): rc = pcishim_use_dump(a, path)
            }
            if rc != 0 || pcishim_init_scan(a) != 0 {
                let message = String(cString: pcishim_last_error())
                _ = pcishim_cleanup(a)
                throw LibPCIError.libpci(message)
            }
            return a
        }
    }

    deinit { close() }

    /// Releases libpci's state. Idempotent.
    public func close() {
        libpciLock.withLock {
            if let a = access { _ = pcishim_cleanup(a) }
            access = nil
        }
    }

    /// Runs `body` with the live access; on a libpci error the access is discarded.
    private func withAccess<T>(_ body: (UnsafeMutablePointer<pci_access>) throws -> T) throws -> T {
        try libpciLock.withLock {
            guard let a = access else { throw LibPCIError.sessionClosed }
            do {
                return try body(a)
            } catch let e as LibPCIError {
                if case .libpci = e {
                    _ = pcishim_cleanup(a)
                    access = nil
                }
                throw e
            }
        }
    }

    private func device(_ a: UnsafeMutablePointer<pci_access>, _ address: PCIAddress) -> UnsafeMutablePointer<pci_dev>? {
        var d = a.pointee.devices
        while let dev = d {
            let p = dev.pointee
            if UInt32(bitPattern: p.domain) == address.domain && p.bus == address.bus && p.dev == address.device && p.`func` == address.function {
                return dev
            }
            d = p.next
        }
        return nil
    }

    /// Every device, sorted by address, with names from pci.ids when `names` is true.
    public func devices(names: Bool = true) throws -> [PCIDeviceInfo] {
        let sizes = Dictionary((dump?.devices ?? []).map { ($0.address, $0.config.count) }, uniquingKeysWith: { a, _ in a })
        return try withAccess { a in
            var out: [PCIDeviceInfo] = []
            var d = a.pointee.devices
            while let dev = d {
                let p = dev.pointee
                let address = PCIAddress(domain: UInt32(bitPattern: p.domain), bus: p.bus, device: p.dev, function: p.`func`)
                out.append(try LibPCIDeviceDecoder.info(dev, access: a, configSize: sizes[address], names: names))
                d = p.next
            }
            return out.sorted { $0.address < $1.address }
        }
    }

    /// `count` config bytes of `address` from `offset`; nil when libpci cannot supply them.
    public func readConfig(_ address: PCIAddress, offset: Int, count: Int) throws -> [UInt8]? {
        guard offset >= 0, count >= 0, offset + count <= 4096 else {
            throw BusmasterError.offsetOutOfRange(region: "config space", offset: offset, width: count, size: 4096)
        }
        return try withAccess { a in
            guard let d = device(a, address) else { throw BusmasterError.noSuchDevice("\(address) in \(source)") }
            return try LibPCIDeviceDecoder.read(d, offset: offset, count: count)
        }
    }

    /// Writes a config word through libpci. Dump sources refuse every write (libpci reports
    /// an error, which closes the session).
    public func writeConfigWord(_ address: PCIAddress, offset: Int, value: UInt16) throws {
        guard offset >= 0, offset + 2 <= 4096, offset % 2 == 0 else {
            throw BusmasterError.invalidArgument("config word offset must be even and within 0...0xffe (got \(offset))")
        }
        try withAccess { a in
            guard let d = device(a, address) else { throw BusmasterError.noSuchDevice("\(address) in \(source)") }
            var ok: Int32 = 0
            try LibPCIDeviceDecoder.check(pcishim_write_word(d, Int32(offset), value, &ok))
            if ok == 0 { throw BusmasterError.platform("libpci could not write config 0x\(String(offset, radix: 16)) of \(address)") }
        }
    }
}
