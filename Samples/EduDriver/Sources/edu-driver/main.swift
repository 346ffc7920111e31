import ArgumentParser
import Busmaster
import BusmasterSimulation
import EduDriver
import EduModel

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the edu self test on a simulated edu or on a real one (VFIO or sysfs+UIO) and
/// prints PASS/FAIL. The same driver code serves both.
struct EduDriverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edu-driver",
        abstract: "Self test for QEMU's edu device: ID, liveness, factorial, interrupt, DMA round trip.",
        discussion: """
            Examples:
              edu-driver --simulate                      run on the built-in simulated edu
              edu-driver 0000:00:01.0 --interrupt intx   run on a real edu bound to vfio-pci or uio_pci_generic
              edu-driver --simulate --trace edu.trace    also record the register trace
            Prints one CHECK line per step and ends with EDU-DRIVER: PASS or EDU-DRIVER: FAIL.
            """)

    @Flag(help: "Use the built-in simulated edu instead of a real device.")
    var simulate = false

    @Argument(help: "PCI address of a real edu (dddd:bb:dd.f or bb:dd.f).")
    var address: String?

    @Option(help: "Completion by 'msi', 'intx' or 'poll'.")
    var interrupt: String = "msi"

    @Option(help: "Record the register trace to this file.")
    var trace: String?

    @Option(help: "Run against a recorded trace instead of a device (checks the driver makes the same accesses).")
    var replay: String?

    @Option(help: "Seconds any single wait on the device may take.")
    var timeout: Double = 5

    func validate() throws {
        guard [simulate, address != nil, replay != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --simulate, --replay FILE or the PCI address of an edu device")
        }
        guard ["msi", "intx", "poll"].contains(interrupt) else {
            throw ValidationError("--interrupt must be msi, intx or poll (got '\(interrupt)')")
        }
        guard timeout > 0 && timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
    }

    func run() throws {
        let kinds: [InterruptKind] = interrupt == "msi" ? [.msi] : interrupt == "intx" ? [.intx] : [.polling]
        let device: PCIDevice
        do {
            device = try EduPlatforms.open(simulate: simulate, address: address, replay: replay, trace: trace)
        } catch {
            print("EDU-DRIVER: FAIL cannot open the device: \(error)")
            throw ExitCode(2)
        }
        print("edu-driver: \(device.address) via \(device.platformName), completion by \(interrupt)")
        let checks = EduSelfTest.run(on: device, interrupts: kinds, timeout: .milliseconds(Int64(timeout * 1000)))
        for c in checks { print("CHECK \(c.name): \(c.passed ? "PASS" : "FAIL") (\(c.detail))") }
        device.close()
        var failed = checks.filter { !$0.passed }
        do {
            try EduPlatforms.finish()
        } catch {
            print("CHECK trace: FAIL (\(error))")
            failed.append(EduCheck(name: "trace", passed: false, detail: "\(error)"))
        }
        if failed.isEmpty {
            print("EDU-DRIVER: PASS")
        } else {
            print("EDU-DRIVER: FAIL \(failed.map(\.name).joined(separator: ", "))")
            throw ExitCode(1)
        }
    }
}

/// Where the device comes from.
enum EduPlatforms {
    nonisolated(unsafe) static var platform: (any PCIPlatform)?
    nonisolated(unsafe) static var recorder: TracingBackend?

    static func open(simulate: Bool, address: String?, replay: String?, trace: String?) throws -> PCIDevice {
        var device: PCIDevice
        if simulate {
            let board = SimulatedPlatform(mode: .threaded)
            platform = board
            device = try board.open(board.plug(EduModel()))
        } else if let replay {
            let r = try ReplayPlatform(path: replay)
            platform = r
            device = try r.open(try r.devices()[0].address)
        } else {
            let a = try PCIAddress(parsing: address ?? "")
            let linux = try HostPlatform.make()
            platform = linux
            device = try linux.open(a)
        }
        if let trace {
            let writer = try TraceFileWriter(path: trace)
            device = try device.rewrapped { TracingBackend(wrapping: $0, writer: writer) }
            recorder = TraceRecorder.recorder(of: device)
        }
        return device
    }

    /// Completes the trace file and, for a replay, checks every recorded access was made.
    static func finish() throws {
        try recorder?.finish()
        try (platform as? ReplayPlatform)?.finish()
    }
}

EduDriverCommand.main()
