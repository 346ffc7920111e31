// swift-tools-version: 6.0
// Busmaster: drive bus-master PCI/PCIe devices from user space on Linux.
import PackageDescription

let package = Package(
    name: "Busmaster",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Busmaster", targets: ["Busmaster"]),
        .library(name: "BusmasterSimulation", targets: ["BusmasterSimulation"]),
        .library(name: "BusmasterLinux", targets: ["BusmasterLinux"]),
        .library(name: "BusmasterLibPCI", targets: ["BusmasterLibPCI"]),
        .library(name: "EduModel", targets: ["EduModel"]),
        .library(name: "EduDriver", targets: ["EduDriver"]),
        .executable(name: "pci-diag", targets: ["pci-diag"]),
        .executable(name: "edu-driver", targets: ["edu-driver"]),
        .executable(name: "busmaster-bench", targets: ["busmaster-bench"]),
        .executable(name: "xdma-diag", targets: ["xdma-diag"]),
        .library(name: "XilinxXDMA", targets: ["XilinxXDMA"]),
        .library(name: "XilinxXDMAModel", targets: ["XilinxXDMAModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // C glue.
        .target(name: "CBusmasterSupport", path: "Sources/CBusmasterSupport"),
        .systemLibrary(
            name: "CLibPCI", path: "Sources/CLibPCI", pkgConfig: "libpci",
            providers: [.apt(["libpci-dev"])]),
        .target(name: "CPCIShim", dependencies: ["CLibPCI"], path: "Sources/CPCIShim"),

        // Core: knows no chipset.
        .target(
            name: "Busmaster",
            dependencies: [
                "CBusmasterSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // Simulated platform: host memory behind an IOMMU, interrupts, device thread.
        .target(name: "BusmasterSimulation", dependencies: ["Busmaster", "CBusmasterSupport"]),
        // Linux kernel backends: VFIO, sysfs, UIO, native sysfs enumeration (no libpci).
        .target(
            name: "BusmasterLinux",
            dependencies: [
                "Busmaster", "CBusmasterSupport",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // libpci enumeration, pci.ids names and lspci dump files (GPL libpci, kept optional).
        .target(name: "BusmasterLibPCI", dependencies: ["Busmaster", "BusmasterLinux", "CPCIShim", "CLibPCI"]),

        // Device models.
        .target(name: "EduModel", dependencies: ["BusmasterSimulation"]),
        .target(name: "XilinxXDMAModel", dependencies: ["BusmasterSimulation"]),

        // Chipset drivers.
        .target(name: "XilinxXDMA", dependencies: ["Busmaster", "CBusmasterSupport"]),

        // Diagnostics.
        .target(
            name: "DiagSupport",
            dependencies: [
                "Busmaster", "BusmasterSimulation", "BusmasterLinux", "BusmasterLibPCI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "pci-diag",
            dependencies: [
                "DiagSupport", "EduModel", "BusmasterLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/PCIDiag"),

        // Benchmarks (not tests): C baselines and the benchmark executable.
        .target(name: "CBenchBaselines", path: "Benchmarks/CBenchBaselines", cSettings: [.unsafeFlags(["-O2"])]),
        .executableTarget(
            name: "busmaster-bench",
            dependencies: ["Busmaster", "BusmasterSimulation", "CBenchBaselines", "CBusmasterSupport", "XilinxXDMA", "XilinxXDMAModel"],
            path: "Benchmarks/busmaster-bench"),

        .executableTarget(
            name: "xdma-diag",
            dependencies: [
                "DiagSupport", "XilinxXDMA", "XilinxXDMAModel", "BusmasterSimulation", "EduModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/XDMADiag"),

        // Samples.
        .target(name: "EduDriver", dependencies: ["Busmaster"], path: "Samples/EduDriver/Sources/EduDriver"),
        .executableTarget(
            name: "edu-driver",
            dependencies: [
                "EduDriver", "EduModel", "Busmaster", "BusmasterSimulation", "BusmasterLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Samples/EduDriver/Sources/edu-driver"),

        // Tests.
        .testTarget(name: "BusmasterTests", dependencies: ["Busmaster", "BusmasterSimulation"]),
        .testTarget(
            name: "BusmasterSimulationTests",
            dependencies: ["Busmaster", "BusmasterSimulation", "EduModel", "EduDriver"]),
        .testTarget(
            name: "BusmasterLinuxTests",
            dependencies: ["Busmaster", "BusmasterLinux", "BusmasterLibPCI", "CBusmasterSupport"]),
        .testTarget(
            name: "XilinxXDMAModelTests", dependencies: ["XilinxXDMAModel", "BusmasterSimulation", "Busmaster"]),
        .testTarget(
            name: "XilinxXDMATests",
            dependencies: ["XilinxXDMA", "XilinxXDMAModel", "BusmasterSimulation", "Busmaster"]),
        .testTarget(
            name: "DiagTests",
            dependencies: ["DiagSupport", "Busmaster", "BusmasterSimulation", "EduModel", "pci-diag", "edu-driver", "xdma-diag"]),
    ]
)
