import DiagSupport

/// Lets shared options be given before the subcommand (`xdma-diag --simulate loopback`), by
/// moving them after it, like ``GlobalOptions/hoist(_:)`` does for the generic ones.
enum ArgumentHoisting {
    /// xdma-diag's own shared flags (besides the generic `--simulate` and `--json`).
    static let flags: Set<String> = GlobalOptions.flags.union(["--simulate-stream", "--progress"])
    /// xdma-diag's own shared options taking a value (besides `--trace`, `--replay`, `--dump`).
    static let valued: Set<String> = GlobalOptions.valued.union(["--device", "-d", "--completion", "--timeout", "--card-memory"])

    /// Returns `arguments` with leading shared options moved behind the subcommand path.
    static func hoist(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if flags.contains(a) {
                leading.append(a)
                i += 1
            } else if valued.contains(a), i + 1 < arguments.count {
                leading += [a, arguments[i + 1]]
                i += 2
            } else if let eq = a.firstIndex(of: "="), valued.contains(String(a[..<eq])) {
                leading.append(a)
                i += 1
            } else {
                break
            }
        }
        if leading.isEmpty || i == arguments.count { return arguments }
        return Array(arguments[i...]) + leading
    }
}
