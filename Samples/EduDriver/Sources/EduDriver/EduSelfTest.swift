import Busmaster

/// One check of the edu self test.
public struct EduCheck: Sendable, Equatable {
    /// Short name ("identification", "liveness", …).
    public var name: String
    /// Whether it passed.
    public var passed: Bool
    /// What was seen.
    public var detail: String

    /// Creates a check result.
    public init(name: String, passed: Bool, detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// The self test the `edu-driver` sample runs: identification, liveness, factorial, an
/// interrupt, and a DMA round trip through host memory. The register sequence is fixed, so
/// traces of runs on different platforms compare line by line (poll counts aside).
public enum EduSelfTest {
    /// Runs every check and returns the results (never throws: failures become failed checks).
    /// - Parameters:
    ///   - device: an opened edu.
    ///   - interrupts: interrupt kinds to try, or `[.polling]` to poll.
    public static func run(on device: PCIDevice, interrupts: [InterruptKind], timeout: Duration = .seconds(5)) -> [EduCheck] {
        var checks: [EduCheck] = []
        func check(_ name: String, _ body: () throws -> (Bool, String)) {
            do {
                let (ok, detail) = try body()
                checks.append(EduCheck(name: name, passed: ok, detail: detail))
            } catch {
                checks.append(EduCheck(name: name, passed: false, detail: "\(error)"))
            }
        }
        let edu: EduDevice
        do {
            edu = try EduDevice(device: device)
            edu.timeout = timeout
        } catch {
            return [EduCheck(name: "open", passed: false, detail: "\(error)")]
        }
        check("identification") {
            let v = edu.version
            return (v.major == 1, "edu \(v.major).\(v.minor)")
        }
        check("liveness") {
            let a = edu.liveness(0x1234_5678)
            let b = edu.liveness(0xA5A5_0F0F)
            return (a == 0xEDCB_A987 && b == ~UInt32(0xA5A5_0F0F), hex32(a) + ", " + hex32(b))
        }
        check("factorial (polled)") {
            let r = try edu.factorial(10)
            return (r == 3_628_800, "10! = \(r)")
        }
        check("interrupts") {
            let irq = try edu.enableInterrupts(preferring: interrupts)
            if irq.kind == .polling { return (true, "polling mode: no interrupt test") }
            let s = try edu.raiseAndWait(0xABCD)
            return (s == 0xABCD, "\(irq.kind) delivered, IRQ_STATUS 0x\(String(s, radix: 16))")
        }
        check("factorial (completion by \(edu.interrupts?.kind.description ?? "polling"))") {
            let r = try edu.factorial(12)
            return (r == 479_001_600, "12! = \(r)")
        }
        check("DMA round trip") {
            let count = 2048
            let deviceOffset = 0x100
            let constraints = DMAConstraints(addressBits: EduRegisters.dmaAddressBits)
            let out = try device.allocateDMABuffer(size: count, direction: .toDevice, constraints: constraints)
            let back = try device.allocateDMABuffer(size: count, direction: .fromDevice, constraints: constraints)
            defer {
                out.free()
                back.free()
            }
            for i in 0..<count { out.bytes[i] = UInt8(truncatingIfNeeded: i &* 7 &+ i >> 8 &+ 3) }
            for i in 0..<count { back.bytes[i] = 0 }
            try edu.copyToDevice(from: out, deviceOffset: deviceOffset, count: count)
            try edu.copyFromDevice(into: back, deviceOffset: deviceOffset, count: count)
            let same = memcmp(out.bytes.baseAddress!, back.bytes.baseAddress!, count) == 0
            return (same, same ? "\(count) bytes host → edu → host match" : "data mismatch after the round trip")
        }
        edu.interrupts?.disable()
        return checks
    }
}

/// `0x` and 8 hex digits.
func hex32(_ v: UInt32) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
}

#if canImport(Glibc)
    import Glibc
#endif
