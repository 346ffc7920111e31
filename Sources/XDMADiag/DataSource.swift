/// Data for a transfer: a generated pattern or the contents of a file.
enum DataSource: CustomStringConvertible {
    /// A generated pattern.
    case pattern(DataPattern)
    /// Bytes read from a file.
    case file(path: String, bytes: [UInt8])

    /// Fills `target` with the first `target.count` bytes.
    func fill(_ target: UnsafeMutableRawBufferPointer) {
        switch self {
        case .pattern(let p): p.fill(target)
        case .file(_, let bytes):
            precondition(bytes.count >= target.count)
            bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<target.count])) }
        }
    }

    /// The first `count` bytes.
    func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }

    var description: String {
        switch self {
        case .pattern(let p): "pattern \(p)"
        case .file(let path, _): "file \(path)"
        }
    }
}
