import Busmaster

/// A device's DMA request that the simulated IOMMU (or bus) refused. The model receives it
/// and reports it the way its chip would (error bits, aborts); the platform also logs it.
public struct DMAFault: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the access failed.
    public enum Reason: Sendable, Hashable {
        /// No mapping covers the address.
        case unmapped
        /// A mapping exists but not for this direction (device write to a to-device buffer, or
        /// a read of a from-device buffer).
        case permission
        /// The driver has not set bus mastering in the command register.
        case busMasterDisabled
        /// The address is beyond what the device can generate (its DMA address width).
        case addressWidth
        /// A platform-level fault injection.
        case injected
    }

    /// Bus address of the first byte that failed.
    public var address: UInt64
    /// Length of the request.
    public var length: Int
    /// True for a device read of host memory, false for a write.
    public var isRead: Bool
    /// Why it failed.
    public var reason: Reason

    /// Creates a fault.
    public init(address: UInt64, length: Int, isRead: Bool, reason: Reason) {
        self.address = address
        self.length = length
        self.isRead = isRead
        self.reason = reason
    }

    public var description: String {
        let what: String
        switch reason {
        case .unmapped: what = "no DMA mapping covers it"
        case .permission: what = isRead ? "the buffer is not mapped for device reads" : "the buffer is not mapped for device writes"
        case .busMasterDisabled: what = "bus mastering is off (set COMMAND bit 2)"
        case .addressWidth: what = "the address is beyond the device's DMA address width"
        case .injected: what = "an injected fault"
        }
        return "device \(isRead ? "read" : "write") of \(length) bytes at bus 0x\(String(address, radix: 16)) refused: \(what)"
    }
}
