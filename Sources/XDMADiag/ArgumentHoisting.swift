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
        GlobalOptions.hoist(arguments, extraFlags: flags, extraValued: valued)
    }
}
