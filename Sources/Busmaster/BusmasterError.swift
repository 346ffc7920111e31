/// Errors reported by the Busmaster core and its platforms.
///
/// Every case names the cause in its ``description``; where the caller can fix the
/// problem, the message says how.
public enum BusmasterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A PCI address string did not parse.
    case invalidAddress(String, reason: String)
    /// A device selector (`-s`/`-d` syntax) did not parse.
    case invalidSelector(String, reason: String)
    /// No device matched the selector or address.
    case noSuchDevice(String)
    /// A BAR index outside 0...5, or a BAR that the device does not implement.
    case barNotPresent(index: Int, available: [Int])
    /// An access at `offset` of `width` bytes does not fit into a region of `size` bytes.
    case offsetOutOfRange(region: String, offset: Int, width: Int, size: Int)
    /// An access at `offset` is not aligned to its width.
    case misaligned(region: String, offset: Int, width: Int)
    /// An access width other than 1, 2, 4 or 8 bytes (or one the region does not support).
    case invalidWidth(Int, allowed: [Int])
    /// A size or count argument is out of its allowed range.
    case invalidArgument(String)
    /// A bounded wait ran out.
    case timeout(String)
    /// The device reads all-ones: it was removed or its link is down.
    case deviceLost(String)
    /// A device tried to reach memory it was not given (simulation, or a decoded IOMMU fault).
    case dmaFault(String)
    /// DMA memory could not be allocated or mapped.
    case dmaUnavailable(String)
    /// None of the requested interrupt kinds is available, or interrupts are not enabled.
    case interruptsUnavailable(String)
    /// The operation is not supported by this platform or device.
    case unsupported(String)
    /// A trace file is malformed.
    case traceFormat(file: String, line: Int, message: String)
    /// A driver's register sequence diverged from the trace it is replayed against.
    case replayDivergence(String)
    /// A system call failed.
    case systemCall(String, errno: Int32, context: String)
    /// A platform-specific failure with an explanation of the fix.
    case platform(String)

    public var description: String {
        switch self {
        case .invalidAddress(let s, let reason):
            return "invalid PCI address '\(s)': \(reason) (expected dddd:bb:dd.f or bb:dd.f, hex)"
        case .invalidSelector(let s, let reason):
            return "invalid device selector '\(s)': \(reason)"
        case .noSuchDevice(let s):
            return "no device matches \(s)"
        case .barNotPresent(let index, let available):
            let list = available.isEmpty ? "none" : available.map(String.init).joined(separator: ", ")
            return "BAR \(index) is not present (device implements BARs: \(list))"
        case .offsetOutOfRange(let region, let offset, let width, let size):
            let last = size - width
            let allowed = last >= 0 ? "0x0...0x\(String(last, radix: 16))" : "none"
            return
                "offset 0x\(String(offset, radix: 16)) with width \(width) is outside \(region) "
                + "(size 0x\(String(size, radix: 16)); allowed offsets \(allowed))"
        case .misaligned(let region, let offset, let width):
            return
                "offset 0x\(String(offset, radix: 16)) in \(region) is not aligned to the access width \(width) "
                + "(use a multiple of \(width))"
        case .invalidWidth(let w, let allowed):
            return "access width \(w) is not allowed (allowed: \(allowed.map(String.init).joined(separator: ", ")))"
        case .invalidArgument(let m): return m
        case .timeout(let m): return "timed out: \(m)"
        case .deviceLost(let m): return "device lost (reads all-ones; removed or link down): \(m)"
        case .dmaFault(let m): return "DMA fault: \(m)"
        case .dmaUnavailable(let m): return "DMA memory unavailable: \(m)"
        case .interruptsUnavailable(let m): return "interrupts unavailable: \(m)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .traceFormat(let file, let line, let m): return "\(file):\(line): \(m)"
        case .replayDivergence(let m): return "replay diverged: \(m)"
        case .systemCall(let call, let errno, let context):
            return "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno)) \(context)"
        case .platform(let m): return m
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
