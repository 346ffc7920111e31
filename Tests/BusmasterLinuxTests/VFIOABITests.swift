import BusmasterLinux
import Foundation
import Testing

/// The Swift VFIO structures and ioctl numbers against `<linux/vfio.h>`, as compiled by
/// the system C compiler on this machine.
@Suite("VFIO ABI")
struct VFIOABITests {
    static let program = #"""
        #include <stdio.h>
        #include <stddef.h>
        #include <linux/vfio.h>
        #define S(t) printf("size %s %zu\n", #t, sizeof(struct t));
        #define O(t, f) printf("offset %s.%s %zu\n", #t, #f, offsetof(struct t, f));
        #define N(n) printf("value %s %lu\n", #n, (unsigned long)(n));
        int main(void) {
            S(vfio_group_status) O(vfio_group_status, flags)
            S(vfio_device_info) O(vfio_device_info, flags) O(vfio_device_info, num_regions) O(vfio_device_info, num_irqs) O(vfio_device_info, cap_offset)
            S(vfio_region_info) O(vfio_region_info, flags) O(vfio_region_info, index) O(vfio_region_info, cap_offset) O(vfio_region_info, size) O(vfio_region_info, offset)
            S(vfio_irq_info) O(vfio_irq_info, flags) O(vfio_irq_info, index) O(vfio_irq_info, count)
            S(vfio_irq_set) O(vfio_irq_set, flags) O(vfio_irq_set, index) O(vfio_irq_set, start) O(vfio_irq_set, count) O(vfio_irq_set, data)
            S(vfio_iommu_type1_info) O(vfio_iommu_type1_info, flags) O(vfio_iommu_type1_info, iova_pgsizes) O(vfio_iommu_type1_info, cap_offset)
            S(vfio_iommu_type1_dma_map) O(vfio_iommu_type1_dma_map, flags) O(vfio_iommu_type1_dma_map, vaddr) O(vfio_iommu_type1_dma_map, iova) O(vfio_iommu_type1_dma_map, size)
            S(vfio_iommu_type1_dma_unmap) O(vfio_iommu_type1_dma_unmap, flags) O(vfio_iommu_type1_dma_unmap, iova) O(vfio_iommu_type1_dma_unmap, size)
            S(vfio_info_cap_header) O(vfio_info_cap_header, version) O(vfio_info_cap_header, next)
            S(vfio_iova_range) O(vfio_iova_range, end)
            S(vfio_region_sparse_mmap_area) O(vfio_region_sparse_mmap_area, size)
            O(vfio_iommu_type1_info_cap_iova_range, nr_iovas) O(vfio_iommu_type1_info_cap_iova_range, iova_ranges)
            O(vfio_region_info_cap_sparse_mmap, nr_areas) O(vfio_region_info_cap_sparse_mmap, areas)
            N(VFIO_GET_API_VERSION) N(VFIO_CHECK_EXTENSION) N(VFIO_SET_IOMMU) N(VFIO_GROUP_GET_STATUS)
            N(VFIO_GROUP_SET_CONTAINER) N(VFIO_GROUP_UNSET_CONTAINER) N(VFIO_GROUP_GET_DEVICE_FD)
            N(VFIO_DEVICE_GET_INFO) N(VFIO_DEVICE_GET_REGION_INFO) N(VFIO_DEVICE_GET_IRQ_INFO) N(VFIO_DEVICE_SET_IRQS)
            N(VFIO_DEVICE_RESET) N(VFIO_IOMMU_GET_INFO) N(VFIO_IOMMU_MAP_DMA) N(VFIO_IOMMU_UNMAP_DMA)
            N(VFIO_API_VERSION) N(VFIO_TYPE1_IOMMU) N(VFIO_TYPE1v2_IOMMU) N(VFIO_DMA_CC_IOMMU) N(VFIO_NOIOMMU_IOMMU) N(VFIO_UNMAP_ALL)
            N(VFIO_GROUP_FLAGS_VIABLE) N(VFIO_GROUP_FLAGS_CONTAINER_SET) N(VFIO_DEVICE_FLAGS_RESET) N(VFIO_DEVICE_FLAGS_PCI)
            N(VFIO_REGION_INFO_FLAG_READ) N(VFIO_REGION_INFO_FLAG_WRITE) N(VFIO_REGION_INFO_FLAG_MMAP) N(VFIO_REGION_INFO_FLAG_CAPS)
            N(VFIO_REGION_INFO_CAP_SPARSE_MMAP) N(VFIO_REGION_INFO_CAP_TYPE) N(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE)
            N(VFIO_IRQ_INFO_EVENTFD) N(VFIO_IRQ_INFO_MASKABLE) N(VFIO_IRQ_INFO_AUTOMASKED) N(VFIO_IRQ_INFO_NORESIZE)
            N(VFIO_IRQ_SET_DATA_NONE) N(VFIO_IRQ_SET_DATA_BOOL) N(VFIO_IRQ_SET_DATA_EVENTFD)
            N(VFIO_IRQ_SET_ACTION_MASK) N(VFIO_IRQ_SET_ACTION_UNMASK) N(VFIO_IRQ_SET_ACTION_TRIGGER)
            N(VFIO_IOMMU_INFO_PGSIZES) N(VFIO_IOMMU_INFO_CAPS) N(VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) N(VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
            N(VFIO_DMA_MAP_FLAG_READ) N(VFIO_DMA_MAP_FLAG_WRITE) N(VFIO_DMA_UNMAP_FLAG_ALL)
            N(VFIO_PCI_BAR0_REGION_INDEX) N(VFIO_PCI_ROM_REGION_INDEX) N(VFIO_PCI_CONFIG_REGION_INDEX) N(VFIO_PCI_VGA_REGION_INDEX)
            N(VFIO_PCI_INTX_IRQ_INDEX) N(VFIO_PCI_MSI_IRQ_INDEX) N(VFIO_PCI_MSIX_IRQ_INDEX) N(VFIO_PCI_ERR_IRQ_INDEX) N(VFIO_PCI_REQ_IRQ_INDEX)
            return 0;
        }
        """#

    /// Compiles and runs the program; nil (with a loud message) when there is no C compiler.
    static func cValues() throws -> [String: UInt64]? {
        let cc = ["/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let cc else {
            print("⚠️⚠️⚠️ VFIO ABI CHECK SKIPPED: no C compiler (cc/gcc/clang) found; install build-essential to run it ⚠️⚠️⚠️")
            return nil
        }
        let dir = try TempDir()
        defer { dir.remove() }
        let src = try dir.write("abi.c", program)
        let exe = dir.file("abi")
        func run(_ path: String, _ args: [String]) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: path)
            p.arguments = args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            let text = String(decoding: data, as: UTF8.self)
            guard p.terminationStatus == 0 else { throw CompileError(output: text) }
            return text
        }
        _ = try run(cc, ["-o", exe, src])
        var values: [String: UInt64] = [:]
        for line in try run(exe, []).split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 3, let v = UInt64(f[2]) { values[f[0] + " " + f[1]] = v }
        }
        return values
    }

    struct CompileError: Error, CustomStringConvertible {
        let output: String
        var description: String { "the VFIO ABI probe did not build or run:\n\(output)" }
    }

    @Test("struct sizes and field offsets match <linux/vfio.h>")
    func layouts() throws {
        guard let c = try Self.cValues() else { return }
        func size<T>(_ t: T.Type, _ name: String) { #expect(UInt64(MemoryLayout<T>.size) == c["size " + name], "sizeof \(name)") }
        func off<T>(_ k: PartialKeyPath<T>, _ name: String) {
            #expect(MemoryLayout<T>.offset(of: k).map(UInt64.init) == c["offset " + name], "offsetof \(name)")
        }
        size(VFIOGroupStatus.self, "vfio_group_status")
        off(\VFIOGroupStatus.flags, "vfio_group_status.flags")
        size(VFIODeviceInfo.self, "vfio_device_info")
        off(\VFIODeviceInfo.flags, "vfio_device_info.flags")
        off(\VFIODeviceInfo.numRegions, "vfio_device_info.num_regions")
        off(\VFIODeviceInfo.numIRQs, "vfio_device_info.num_irqs")
        off(\VFIODeviceInfo.capOffset, "vfio_device_info.cap_offset")
        size(VFIORegionInfo.self, "vfio_region_info")
        off(\VFIORegionInfo.flags, "vfio_region_info.flags")
        off(\VFIORegionInfo.index, "vfio_region_info.index")
        off(\VFIORegionInfo.capOffset, "vfio_region_info.cap_offset")
        off(\VFIORegionInfo.size, "vfio_region_info.size")
        off(\VFIORegionInfo.offset, "vfio_region_info.offset")
        size(VFIOIRQInfo.self, "vfio_irq_info")
        off(\VFIOIRQInfo.flags, "vfio_irq_info.flags")
        off(\VFIOIRQInfo.index, "vfio_irq_info.index")
        off(\VFIOIRQInfo.count, "vfio_irq_info.count")
        size(VFIOIRQSetHeader.self, "vfio_irq_set")
        #expect(UInt64(MemoryLayout<VFIOIRQSetHeader>.size) == c["offset vfio_irq_set.data"], "eventfd data follows the header")
        off(\VFIOIRQSetHeader.flags, "vfio_irq_set.flags")
        off(\VFIOIRQSetHeader.index, "vfio_irq_set.index")
        off(\VFIOIRQSetHeader.start, "vfio_irq_set.start")
        off(\VFIOIRQSetHeader.count, "vfio_irq_set.count")
        size(VFIOIOMMUType1Info.self, "vfio_iommu_type1_info")
        off(\VFIOIOMMUType1Info.flags, "vfio_iommu_type1_info.flags")
        off(\VFIOIOMMUType1Info.iovaPageSizes, "vfio_iommu_type1_info.iova_pgsizes")
        off(\VFIOIOMMUType1Info.capOffset, "vfio_iommu_type1_info.cap_offset")
        size(VFIODMAMap.self, "vfio_iommu_type1_dma_map")
        off(\VFIODMAMap.flags, "vfio_iommu_type1_dma_map.flags")
        off(\VFIODMAMap.vaddr, "vfio_iommu_type1_dma_map.vaddr")
        off(\VFIODMAMap.iova, "vfio_iommu_type1_dma_map.iova")
        off(\VFIODMAMap.size, "vfio_iommu_type1_dma_map.size")
        size(VFIODMAUnmap.self, "vfio_iommu_type1_dma_unmap")
        off(\VFIODMAUnmap.flags, "vfio_iommu_type1_dma_unmap.flags")
        off(\VFIODMAUnmap.iova, "vfio_iommu_type1_dma_unmap.iova")
        off(\VFIODMAUnmap.size, "vfio_iommu_type1_dma_unmap.size")
        size(VFIOInfoCapHeader.self, "vfio_info_cap_header")
        off(\VFIOInfoCapHeader.version, "vfio_info_cap_header.version")
        off(\VFIOInfoCapHeader.next, "vfio_info_cap_header.next")
        size(VFIOIOVARange.self, "vfio_iova_range")
        off(\VFIOIOVARange.end, "vfio_iova_range.end")
        size(VFIOSparseMMAPArea.self, "vfio_region_sparse_mmap_area")
        off(\VFIOSparseMMAPArea.size, "vfio_region_sparse_mmap_area.size")
        // The capability parsers read these fields at fixed offsets.
        #expect(c["offset vfio_iommu_type1_info_cap_iova_range.nr_iovas"] == 8)
        #expect(c["offset vfio_iommu_type1_info_cap_iova_range.iova_ranges"] == 16)
        #expect(c["offset vfio_region_info_cap_sparse_mmap.nr_areas"] == 8)
        #expect(c["offset vfio_region_info_cap_sparse_mmap.areas"] == 16)
    }

    @Test("ioctl numbers and constants match <linux/vfio.h>")
    func numbers() throws {
        guard let c = try Self.cValues() else { return }
        let ours: [(String, UInt64)] = [
            ("VFIO_GET_API_VERSION", UInt64(VFIOIoctl.getAPIVersion)), ("VFIO_CHECK_EXTENSION", UInt64(VFIOIoctl.checkExtension)),
            ("VFIO_SET_IOMMU", UInt64(VFIOIoctl.setIOMMU)), ("VFIO_GROUP_GET_STATUS", UInt64(VFIOIoctl.groupGetStatus)),
            ("VFIO_GROUP_SET_CONTAINER", UInt64(VFIOIoctl.groupSetContainer)),
            ("VFIO_GROUP_UNSET_CONTAINER", UInt64(VFIOIoctl.groupUnsetContainer)),
            ("VFIO_GROUP_GET_DEVICE_FD", UInt64(VFIOIoctl.groupGetDeviceFD)), ("VFIO_DEVICE_GET_INFO", UInt64(VFIOIoctl.deviceGetInfo)),
            ("VFIO_DEVICE_GET_REGION_INFO", UInt64(VFIOIoctl.deviceGetRegionInfo)),
            ("VFIO_DEVICE_GET_IRQ_INFO", UInt64(VFIOIoctl.deviceGetIRQInfo)), ("VFIO_DEVICE_SET_IRQS", UInt64(VFIOIoctl.deviceSetIRQs)),
            ("VFIO_DEVICE_RESET", UInt64(VFIOIoctl.deviceReset)), ("VFIO_IOMMU_GET_INFO", UInt64(VFIOIoctl.iommuGetInfo)),
            ("VFIO_IOMMU_MAP_DMA", UInt64(VFIOIoctl.iommuMapDMA)), ("VFIO_IOMMU_UNMAP_DMA", UInt64(VFIOIoctl.iommuUnmapDMA)),
            ("VFIO_API_VERSION", UInt64(VFIOConstant.apiVersion)), ("VFIO_TYPE1_IOMMU", UInt64(VFIOConstant.type1IOMMU)),
            ("VFIO_TYPE1v2_IOMMU", UInt64(VFIOConstant.type1v2IOMMU)), ("VFIO_DMA_CC_IOMMU", UInt64(VFIOConstant.dmaCCIOMMU)),
            ("VFIO_NOIOMMU_IOMMU", UInt64(VFIOConstant.noIOMMU)), ("VFIO_UNMAP_ALL", UInt64(VFIOConstant.unmapAll)),
            ("VFIO_GROUP_FLAGS_VIABLE", UInt64(VFIOConstant.groupFlagViable)),
            ("VFIO_GROUP_FLAGS_CONTAINER_SET", UInt64(VFIOConstant.groupFlagContainerSet)),
            ("VFIO_DEVICE_FLAGS_RESET", UInt64(VFIOConstant.deviceFlagReset)), ("VFIO_DEVICE_FLAGS_PCI", UInt64(VFIOConstant.deviceFlagPCI)),
            ("VFIO_REGION_INFO_FLAG_READ", UInt64(VFIOConstant.regionFlagRead)),
            ("VFIO_REGION_INFO_FLAG_WRITE", UInt64(VFIOConstant.regionFlagWrite)),
            ("VFIO_REGION_INFO_FLAG_MMAP", UInt64(VFIOConstant.regionFlagMMAP)),
            ("VFIO_REGION_INFO_FLAG_CAPS", UInt64(VFIOConstant.regionFlagCaps)),
            ("VFIO_REGION_INFO_CAP_SPARSE_MMAP", UInt64(VFIOConstant.regionCapSparseMMAP)),
            ("VFIO_REGION_INFO_CAP_TYPE", UInt64(VFIOConstant.regionCapType)),
            ("VFIO_REGION_INFO_CAP_MSIX_MAPPABLE", UInt64(VFIOConstant.regionCapMSIXMappable)),
            ("VFIO_IRQ_INFO_EVENTFD", UInt64(VFIOConstant.irqInfoEventFD)), ("VFIO_IRQ_INFO_MASKABLE", UInt64(VFIOConstant.irqInfoMaskable)),
            ("VFIO_IRQ_INFO_AUTOMASKED", UInt64(VFIOConstant.irqInfoAutomasked)),
            ("VFIO_IRQ_INFO_NORESIZE", UInt64(VFIOConstant.irqInfoNoResize)),
            ("VFIO_IRQ_SET_DATA_NONE", UInt64(VFIOConstant.irqSetDataNone)), ("VFIO_IRQ_SET_DATA_BOOL", UInt64(VFIOConstant.irqSetDataBool)),
            ("VFIO_IRQ_SET_DATA_EVENTFD", UInt64(VFIOConstant.irqSetDataEventFD)),
            ("VFIO_IRQ_SET_ACTION_MASK", UInt64(VFIOConstant.irqSetActionMask)),
            ("VFIO_IRQ_SET_ACTION_UNMASK", UInt64(VFIOConstant.irqSetActionUnmask)),
            ("VFIO_IRQ_SET_ACTION_TRIGGER", UInt64(VFIOConstant.irqSetActionTrigger)),
            ("VFIO_IOMMU_INFO_PGSIZES", UInt64(VFIOConstant.iommuInfoPageSizes)), ("VFIO_IOMMU_INFO_CAPS", UInt64(VFIOConstant.iommuInfoCaps)),
            ("VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE", UInt64(VFIOConstant.iommuCapIOVARange)),
            ("VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL", UInt64(VFIOConstant.iommuCapDMAAvail)),
            ("VFIO_DMA_MAP_FLAG_READ", UInt64(VFIOConstant.dmaMapFlagRead)), ("VFIO_DMA_MAP_FLAG_WRITE", UInt64(VFIOConstant.dmaMapFlagWrite)),
            ("VFIO_DMA_UNMAP_FLAG_ALL", UInt64(VFIOConstant.dmaUnmapFlagAll)),
            ("VFIO_PCI_BAR0_REGION_INDEX", UInt64(VFIORegionIndex.bar0)), ("VFIO_PCI_ROM_REGION_INDEX", UInt64(VFIORegionIndex.rom)),
            ("VFIO_PCI_CONFIG_REGION_INDEX", UInt64(VFIORegionIndex.config)), ("VFIO_PCI_VGA_REGION_INDEX", UInt64(VFIORegionIndex.vga)),
            ("VFIO_PCI_INTX_IRQ_INDEX", UInt64(VFIOIRQIndex.intx)), ("VFIO_PCI_MSI_IRQ_INDEX", UInt64(VFIOIRQIndex.msi)),
            ("VFIO_PCI_MSIX_IRQ_INDEX", UInt64(VFIOIRQIndex.msix)), ("VFIO_PCI_ERR_IRQ_INDEX", UInt64(VFIOIRQIndex.err)),
            ("VFIO_PCI_REQ_IRQ_INDEX", UInt64(VFIOIRQIndex.req)),
        ]
        for (name, value) in ours {
            #expect(c["value " + name] == value, "\(name): C says \(c["value " + name].map { String($0, radix: 16) } ?? "missing"), Swift 0x\(String(value, radix: 16))")
        }
        #expect(VFIOIoctl.getAPIVersion == 0x3B64 && VFIOIoctl.iommuUnmapDMA == 0x3B72)
    }
}
