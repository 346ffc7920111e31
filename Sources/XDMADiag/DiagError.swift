import DiagSupport

/// Errors xdma-diag itself raises (device and driver errors keep their own types:
/// `XDMAError`, `BusmasterError`). ArgumentParser prints the description and exits non-zero.
enum XDMADiagError: Error, CustomStringConvertible {
    /// No device was named and the platform has no (or several) XDMA-looking devices.
    case deviceSelection(String)
    /// The device is not an XDMA card.
    case notXDMA(String)
    /// A user-given value is outside what is allowed; the text says what is.
    case invalidInput(String)
    /// A file could not be read or written.
    case file(path: String, reason: String)
    /// Data read back differs from what was expected.
    case verifyFailed(VerifyMismatch)
    /// The requested interrupt kind could not be enabled.
    case interruptKind(String)
    /// The operation needs a simulated device (e.g. `--raise`).
    case needsSimulation(String)
    /// A background transfer did not finish in time.
    case timeout(String)

    var description: String {
        switch self {
        case .deviceSelection(let m): return m
        case .invalidInput(let m): return m
        case .notXDMA(let m): return m
        case .file(let path, let reason): return "cannot use file '\(path)': \(reason)"
        case .verifyFailed(let m): return "verify failed: \(m)"
        case .interruptKind(let m): return m
        case .needsSimulation(let m): return m
        case .timeout(let m): return m
        }
    }
}

/// Where and how data differed from what was expected.
struct VerifyMismatch: CustomStringConvertible, Codable {
    /// Bytes that differ.
    var differingBytes: Int
    /// Offset (within the transfer) of the first difference.
    var firstOffset: Int
    /// Expected byte there.
    var expected: UInt8
    /// Byte found there.
    var actual: UInt8
    /// Which iteration (from 1) found it.
    var iteration: Int

    var description: String {
        "\(differingBytes) byte(s) differ in transfer \(iteration); first at offset 0x\(String(firstOffset, radix: 16)): "
            + "expected 0x\(hexDigits(expected, 2)), got 0x\(hexDigits(actual, 2))"
    }
}
