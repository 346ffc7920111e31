import DiagSupport
import XilinxXDMA

/// Checks of user-given transfer geometry, made before any buffer is allocated or any
/// register is written; each message says what is allowed.
enum TransferLimits {
    /// The largest single transfer xdma-diag allocates a host buffer for.
    static let maximumSize = 1 << 30
    /// Host buffer page offsets allowed (`dma_to_device -o`).
    static let offsets = 0..<4096
    /// C2H stream buffers are whole multiples of this.
    static let streamGranule = 64

    /// Parses and checks `--size`.
    static func size(_ text: String) throws -> Int {
        let n = try NumberParser.size(text, name: "--size")
        try check(size: n)
        return n
    }

    /// Checks a size: 1 byte … 1 GiB.
    static func check(size n: Int) throws {
        guard n >= 1 else { throw XDMADiagError.invalidInput("--size must be at least 1 byte (got 0)") }
        guard n <= maximumSize else {
            throw XDMADiagError.invalidInput("--size \(Format.size(n)) is larger than the \(Format.size(maximumSize)) one transfer may move")
        }
    }

    /// Parses and checks `--offset` (host buffer page offset).
    static func hostOffset(_ text: String) throws -> Int {
        let n = try NumberParser.offset(text, name: "--offset")
        guard offsets.contains(n) else {
            throw XDMADiagError.invalidInput("--offset is the host buffer's offset within a page and must be 0-4095 (got \(text))")
        }
        return n
    }

    /// Parses `--address` (card address).
    static func cardAddress(_ text: String) throws -> UInt64 {
        try NumberParser.unsigned(text, name: "--address")
    }

    /// Checks that `size` bytes at `address` suit `engine`: inside card memory for
    /// memory-mapped engines, no card address and the 64-byte rule for stream engines.
    static func check(engine: XDMAEngine, address: UInt64, size: Int, cardMemory: UInt64?, addressGiven: Bool) throws {
        switch engine.kind {
        case .memoryMapped:
            guard let memory = cardMemory else { return }
            guard address < memory else {
                throw XDMADiagError.invalidInput(
                    "--address 0x\(String(address, radix: 16)) is outside the \(Format.size(Int(memory))) card memory "
                        + "(allowed 0x0-0x\(String(memory - 1, radix: 16)))")
            }
            let room = memory - address
            guard UInt64(size) <= room else {
                throw XDMADiagError.invalidInput(
                    "\(Format.size(size)) at card address 0x\(String(address, radix: 16)) runs past the end of the "
                        + "\(Format.size(Int(memory))) card memory (at most \(room) bytes fit there)")
            }
        case .stream:
            if addressGiven && address != 0 {
                throw XDMADiagError.invalidInput("\(engine.id) is an AXI4-Stream engine: it has no card address (drop --address)")
            }
            if engine.direction == .c2h && size % streamGranule != 0 {
                let lower = size / streamGranule * streamGranule
                throw XDMADiagError.invalidInput(
                    "\(engine.id) is a C2H stream engine: its buffers must be a multiple of 64 bytes (got \(size); use "
                        + (lower > 0 ? "\(lower) or " : "") + "\(lower + streamGranule))")
            }
        }
    }
}
