/// Entry points for recording a device session as a trace.
public enum TraceRecorder {
    /// Opens `backend` as a device whose every access is recorded to the trace file `path`.
    /// The file is complete when the device is closed; use ``recorder(of:)`` to reach the
    /// recorder (marks, flush, write errors).
    public static func record(
        _ backend: any PCIDeviceBackend, to path: String, options: TraceRecordingOptions = .init()
    ) throws -> PCIDevice {
        let writer = try TraceFileWriter(path: path)
        return PCIDevice(backend: TracingBackend(wrapping: backend, writer: writer, options: options))
    }

    /// Opens `backend` as a device recorded in memory; the returned recorder's
    /// ``TracingBackend/recordedTrace`` is the trace so far.
    public static func recordInMemory(
        _ backend: any PCIDeviceBackend, options: TraceRecordingOptions = .init()
    ) -> (device: PCIDevice, recorder: TracingBackend) {
        let recorder = TracingBackend(wrapping: backend, writer: TraceMemoryWriter(), options: options)
        return (PCIDevice(backend: recorder), recorder)
    }

    /// Records an already open device (e.g. from ``PCIPlatform/open(_:)``) to the trace file
    /// `path`, returning the device to drive from now on (see ``PCIDevice/rewrapped(_:)``:
    /// the original device becomes inert). Call before mapping BARs or enabling interrupts.
    public static func record(_ device: PCIDevice, to path: String, options: TraceRecordingOptions = .init()) throws -> PCIDevice {
        let writer = try TraceFileWriter(path: path)
        return try device.rewrapped { TracingBackend(wrapping: $0, writer: writer, options: options) }
    }

    /// Records an already open device in memory; the same rules as for files apply.
    public static func recordInMemory(
        _ device: PCIDevice, options: TraceRecordingOptions = .init()
    ) throws -> (device: PCIDevice, recorder: TracingBackend) {
        let recorded = try device.rewrapped { TracingBackend(wrapping: $0, writer: TraceMemoryWriter(), options: options) }
        return (recorded, recorded.backend as! TracingBackend)
    }

    /// The recorder behind a device opened by ``record(_:to:options:)``, or nil when the device
    /// is not being recorded.
    public static func recorder(of device: PCIDevice) -> TracingBackend? { device.backend as? TracingBackend }
}
