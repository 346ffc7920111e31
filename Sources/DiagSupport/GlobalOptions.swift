/// Lets the shared options (`--simulate`, `--trace FILE`, `--replay FILE`, `--dump FILE`, `--json`) be given
/// before the subcommand, as in `pci-diag --simulate list`, by moving them after it.
public enum GlobalOptions {
    /// Flags without a value.
    public static let flags: Set<String> = ["--simulate", "--json"]
    /// Options that take one value.
    public static let valued: Set<String> = ["--trace", "--replay", "--dump"]

    /// Returns `arguments` (without the program name) with leading shared options moved to the
    /// end. A tool adds its own shared options with `extraFlags` and `extraValued`.
    public static func hoist(_ arguments: [String], extraFlags: Set<String> = [], extraValued: Set<String> = []) -> [String] {
        let flags = Self.flags.union(extraFlags)
        let valued = Self.valued.union(extraValued)
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
