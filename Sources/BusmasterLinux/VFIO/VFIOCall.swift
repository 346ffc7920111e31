import Busmaster
import CBusmasterSupport

#if canImport(Glibc)
    import Glibc
#endif

/// ioctl helpers that turn failures into ``BusmasterError/systemCall(_:errno:context:)``.
enum VFIOCall {
    /// ioctl with a pointer argument; returns the (non-negative) result.
    @discardableResult
    static func pointer(_ fd: Int32, _ request: UInt, _ arg: UnsafeMutableRawPointer, _ name: String, _ context: @autoclosure () -> String)
        throws -> Int32
    {
        let rc = bm_ioctl_ptr(fd, request, arg)
        if rc < 0 { throw BusmasterError.systemCall(name, errno: errno, context: context()) }
        return rc
    }

    /// ioctl with a value argument.
    @discardableResult
    static func value(_ fd: Int32, _ request: UInt, _ arg: UInt, _ name: String, _ context: @autoclosure () -> String) throws -> Int32 {
        let rc = bm_ioctl_val(fd, request, arg)
        if rc < 0 { throw BusmasterError.systemCall(name, errno: errno, context: context()) }
        return rc
    }

    /// ioctl without an argument.
    @discardableResult
    static func none(_ fd: Int32, _ request: UInt, _ name: String, _ context: @autoclosure () -> String) throws -> Int32 {
        let rc = bm_ioctl_none(fd, request)
        if rc < 0 { throw BusmasterError.systemCall(name, errno: errno, context: context()) }
        return rc
    }

    /// Issues an "info with capabilities" ioctl: calls with `T`'s size, and when the kernel
    /// raises `argsz` (first field) calls again with a buffer that large. Returns the raw
    /// bytes (at least `MemoryLayout<T>.size`).
    static func infoWithCaps<T>(_ fd: Int32, _ request: UInt, _ initial: T, _ name: String, _ context: @autoclosure () -> String)
        throws -> [UInt8]
    {
        var size = MemoryLayout<T>.size
        var buffer = [UInt8](repeating: 0, count: size)
        buffer.withUnsafeMutableBytes { $0.storeBytes(of: initial, as: T.self) }
        for _ in 0..<4 {
            try buffer.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: UInt32(size), toByteOffset: 0, as: UInt32.self)
                try pointer(fd, request, raw.baseAddress!, name, context())
            }
            let wanted = Int(buffer.withUnsafeBytes { $0.load(fromByteOffset: 0, as: UInt32.self) })
            if wanted <= size { return buffer }
            size = wanted
            var bigger = [UInt8](repeating: 0, count: size)
            bigger.withUnsafeMutableBytes { $0.storeBytes(of: initial, as: T.self) }
            buffer = bigger
        }
        return buffer
    }

    /// Walks a VFIO capability chain in `info` starting at `offset`; calls `body` with each
    /// header and its offset. Bounded and loop-safe.
    static func walkCaps(_ info: [UInt8], from offset: Int, _ body: (VFIOInfoCapHeader, Int) -> Void) {
        var off = offset
        var seen = Set<Int>()
        let headerSize = MemoryLayout<VFIOInfoCapHeader>.size
        while off >= headerSize, off + headerSize <= info.count, seen.insert(off).inserted {
            let h = info.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: off, as: VFIOInfoCapHeader.self) }
            body(h, off)
            off = Int(h.next)
        }
    }
}
