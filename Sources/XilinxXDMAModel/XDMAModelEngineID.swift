/// Which way an XDMA engine moves data.
public enum XDMAModelDirection: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Host to card.
    case h2c
    /// Card to host.
    case c2h

    /// "H2C" or "C2H".
    public var description: String { rawValue.uppercased() }
}

/// Names one engine of the model: direction and channel (0–3).
public struct XDMAModelEngine: Sendable, Hashable, CustomStringConvertible {
    /// Direction.
    public var direction: XDMAModelDirection
    /// Channel within the direction.
    public var channel: Int

    /// Names an engine.
    public init(_ direction: XDMAModelDirection, channel: Int) {
        self.direction = direction
        self.channel = channel
    }

    /// H2C engine `channel`.
    public static func h2c(_ channel: Int) -> XDMAModelEngine { XDMAModelEngine(.h2c, channel: channel) }
    /// C2H engine `channel`.
    public static func c2h(_ channel: Int) -> XDMAModelEngine { XDMAModelEngine(.c2h, channel: channel) }

    /// "H2C0" … "C2H3".
    public var description: String { "\(direction)\(channel)" }
}

/// The state of one engine (§4.1), for tests and diagnostic tools.
public struct XDMAModelEngineState: Sendable, Hashable {
    /// Where the engine is in §4.1's state table.
    public enum Phase: String, Sendable, Hashable {
        /// Run = 0, not busy.
        case idle
        /// Run = 1, fetching or transferring.
        case running
        /// Run = 1, waiting for credits, a halt to clear or stream data (busy).
        case waiting
        /// Run = 1 after a Stop descriptor finished.
        case stopped
        /// Run = 1 after an error stopped the engine.
        case error
        /// Run = 1, an error with its ie group off froze the engine (policy `hang`).
        case hung
        /// Run = 0 while the descriptor in progress finishes.
        case draining
    }

    /// State.
    public var phase: Phase
    /// Status bit 0.
    public var busy: Bool
    /// Control bit 0.
    public var run: Bool
    /// Held by the stuck-AXI fault.
    public var stuck: Bool
    /// The completed-descriptor count (0x48).
    public var completedCount: UInt32
    /// Descriptor credits left (SGDMA 0x8C).
    public var credits: Int
    /// Latched Status bits 23:1.
    public var status: UInt32
}
