/// Writes a ``Trace`` as Linux mmiotrace-style text, for tools that read that format.
///
/// The output has a synthetic `PCIDEV` (BARs laid out from 0xf0000000, naturally aligned,
/// flag nibble ORed in), one `MAP` per BAR (map id = BAR index + 1), one `R`/`W` per access
/// (folded reads expanded), `MARK`s, and an `UNMAP` per BAR at the end; all timestamps are
/// 0. Config space, DMA and interrupt events have no mmiotrace record and are left out.
/// Symbolic bus addresses are written with the fake addresses a replay would give the buffers.
public enum MMIOTraceExporter {
    /// Where the synthetic BAR layout starts.
    public static let barBase: UInt64 = 0xF000_0000

    /// The mmiotrace text of `trace`.
    public static func export(_ trace: Trace) -> String {
        let d = trace.device
        var starts = [UInt64](repeating: 0, count: 7)
        var sizes = [UInt64](repeating: 0, count: 7)
        var next = barBase
        for b in d.bars {
            let size = max(b.size, 0x1000)
            var align: UInt64 = 1
            while align < size { align <<= 1 }
            let start = (next + align - 1) / align * align
            next = start + size
            starts[b.index] = start
            sizes[b.index] = b.size == 0 ? size : b.size
        }
        func flags(_ b: TraceBAR) -> UInt64 { (b.kind == .io ? 1 : 0) | (b.is64Bit ? 4 : 0) | (b.isPrefetchable ? 8 : 0) }
        let bdf = UInt16(d.address.bus) << 8 | UInt16(d.address.devfn)
        var resources = (0..<7).map { i -> String in
            let f = d.bar(i).map(flags) ?? 0
            return String(starts[i] | f, radix: 16)
        }
        resources += sizes.map { String($0, radix: 16) }
        var out = "VERSION \(MMIOTraceImporter.version)\n"
        out += "PCIDEV \(hex(bdf, 4)) \(hex(d.vendorID, 4))\(hex(d.deviceID, 4)) 0 \(resources.joined(separator: " ")) busmaster\n"
        for b in d.bars {
            out += "MAP 0.000000 \(b.index + 1) 0x\(String(starts[b.index], radix: 16)) 0x0 0x\(String(sizes[b.index], radix: 16)) 0x0 0\n"
        }
        var addresses = BusAddressMap()
        var allocator = ReplayBusAllocator()
        for e in trace.events {
            switch e {
            case .mark(let text): out += "MARK 0.000000 \(text)\n"
            case .read(let bar, let offset, let width, let value, let count):
                let line = "R \(width.bytes) 0.000000 \(bar + 1) 0x\(String(starts[bar] + UInt64(offset), radix: 16)) 0x\(String(value, radix: 16)) 0x0 0\n"
                for _ in 0..<count { out += line }
            case .write(let bar, let offset, let width, let value):
                let v = (value.resolve(addresses.address) ?? 0) & width.mask
                out += "W \(width.bytes) 0.000000 \(bar + 1) 0x\(String(starts[bar] + UInt64(offset), radix: 16)) 0x\(String(v, radix: 16)) 0x0 0\n"
            case .dmaAllocate(let id, let size, _, _, let bus), .dmaLock(let id, let size, _, let bus):
                if let segs = bus ?? (try? allocator.allocate(size: size, constraints: DMAConstraints())) {
                    addresses.add(buffer: id, segments: segs)
                }
            case .dmaFree(let id): addresses.remove(buffer: id)
            default: break
            }
        }
        for b in d.bars { out += "UNMAP 0.000000 \(b.index + 1) 0x0 0\n" }
        return out
    }
}
