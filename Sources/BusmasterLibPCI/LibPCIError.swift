/// Errors of the libpci layer: unreadable or malformed dump files (with the line), and
/// errors libpci itself reported (recovered instead of ending the process).
public enum LibPCIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A file could not be read.
    case cannotOpen(path: String, reason: String)
    /// A dump or BAR-size file is malformed at `line` (1-based).
    case malformed(path: String, line: Int, message: String)
    /// A dump file holds no device.
    case noDevices(path: String)
    /// libpci reported an error (its message); the session that hit it is closed.
    case libpci(String)
    /// The session was closed (explicitly, or after a libpci error).
    case sessionClosed
    /// libpci could not allocate its state.
    case outOfMemory

    public var description: String {
        switch self {
        case .cannotOpen(let p, let r): "cannot read \(p): \(r)"
        case .malformed(let p, let l, let m): "\(p):\(l): \(m)"
        case .noDevices(let p):
            "\(p) holds no device: expected a header line such as `03:00.0 Bridge: ...` followed by data lines "
                + "`00: 86 80 ...` (the output of `lspci -xxx` or `lspci -xxxx`)"
        case .libpci(let m): "libpci: \(m)"
        case .sessionClosed: "the libpci session is closed (a libpci error ends a session; open a new one)"
        case .outOfMemory: "libpci could not allocate memory"
        }
    }
}
