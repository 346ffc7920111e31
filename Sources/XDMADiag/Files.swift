import Foundation

/// Reading input files and writing output files, with errors that name the file and why.
enum Files {
    /// Reads the whole file at `path`.
    static func read(_ path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw XDMADiagError.file(path: path, reason: "it does not exist")
        }
        if isDirectory.boolValue { throw XDMADiagError.file(path: path, reason: "it is a directory") }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path) else {
            throw XDMADiagError.file(path: path, reason: "it is not readable")
        }
        return [UInt8](data)
    }

    /// Checks that `path` can be written (creating or truncating it), before any DMA runs.
    static func prepareOutput(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw XDMADiagError.file(path: path, reason: "it is a directory")
        }
        guard FileManager.default.createFile(atPath: path, contents: Data()) else {
            let dir = (path as NSString).deletingLastPathComponent
            throw XDMADiagError.file(path: path, reason: "it cannot be created or written (check that '\(dir.isEmpty ? "." : dir)' exists and is writable)")
        }
    }

    /// Writes `bytes` to `path`.
    static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        let data = bytes.count == 0 ? Data() : Data(bytes: bytes.baseAddress!, count: bytes.count)
        do { try data.write(to: URL(fileURLWithPath: path)) } catch {
            throw XDMADiagError.file(path: path, reason: error.localizedDescription)
        }
    }

    /// Writes text to `path`.
    static func write(_ text: String, to path: String) throws {
        do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw XDMADiagError.file(path: path, reason: error.localizedDescription)
        }
    }
}
