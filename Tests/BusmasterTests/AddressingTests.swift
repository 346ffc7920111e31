import Foundation
import Busmaster
import Testing

@Suite struct PCIAddressTests {
    @Test func parsesFullAndShortForms() throws {
        let a = try PCIAddress(parsing: "0000:3b:00.1")
        #expect(a == PCIAddress(domain: 0, bus: 0x3B, device: 0, function: 1))
        #expect(a.description == "0000:3b:00.1")
        #expect(a.shortDescription == "3b:00.1")
        let b = try PCIAddress(parsing: "02:1f.7")
        #expect(b.device == 0x1F && b.function == 7 && b.domain == 0)
        let c = try PCIAddress(parsing: "10000:01:00.0")
        #expect(c.domain == 0x10000 && c.shortDescription == "10000:01:00.0")
        #expect(b < a)
    }

    @Test(arguments: ["", "00:00", "0000:00:20.0", "00:00.8", "zz:00.0", "0000:000:00.0", "00:00.", "1:2:3:4.0"])
    func rejectsMalformed(_ text: String) {
        #expect(throws: BusmasterError.self) { try PCIAddress(parsing: text) }
        #expect(PCIAddress(text) == nil)
    }

    @Test func errorNamesTheExpectedForm() {
        do {
            _ = try PCIAddress(parsing: "00:20.0")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("device must be hex 0-1f"))
            #expect("\(error)".contains("dddd:bb:dd.f"))
        }
    }

    @Test func codableRoundTrip() throws {
        let a = PCIAddress(domain: 1, bus: 2, device: 3, function: 4)
        let data = try JSONEncoder().encode([a])
        #expect(String(decoding: data, as: UTF8.self) == "[\"0001:02:03.4\"]")
        #expect(try JSONDecoder().decode([PCIAddress].self, from: data) == [a])
    }
}

@Suite struct DeviceSelectorTests {
    let edu = PCIDeviceInfo(address: PCIAddress(bus: 0, device: 1, function: 0), vendorID: 0x1234, deviceID: 0x11E8, classCode: 0x00FF00)
    let nic = PCIDeviceInfo(address: PCIAddress(domain: 1, bus: 3, device: 0, function: 1), vendorID: 0x8086, deviceID: 0x10D3, classCode: 0x020000)

    @Test func slotSelectors() throws {
        #expect(try DeviceSelector(slot: "00:01.0").matches(edu))
        #expect(try !DeviceSelector(slot: "00:01.0").matches(nic))
        #expect(try DeviceSelector(slot: "1:3:0.1").matches(nic))
        #expect(try DeviceSelector(slot: "*:*.1").matches(nic))
        #expect(try !DeviceSelector(slot: "*:*.1").matches(edu))
        #expect(try DeviceSelector(slot: ".0").matches(edu))
        #expect(try DeviceSelector(slot: "03:").matches(nic))
    }

    @Test func idAndClassSelectors() throws {
        #expect(try DeviceSelector(ids: "1234:11e8").matches(edu))
        #expect(try DeviceSelector(ids: "1234:").matches(edu))
        #expect(try DeviceSelector(ids: ":10d3").matches(nic))
        #expect(try DeviceSelector(ids: "::0200").matches(nic))
        #expect(try DeviceSelector(ids: "::02").matches(nic))
        #expect(try !DeviceSelector(ids: "::0200").matches(edu))
        #expect(try DeviceSelector(parsing: "8086:10d3").matches(nic))
        #expect(try DeviceSelector(parsing: "00:01.0").matches(edu))
    }

    @Test(arguments: ["12345:0", "xyz:1", "::123", "1:2:3:4:5", "00:00.9", "00:20.0", "100:00.0"])
    func malformedSelectorsThrow(_ text: String) {
        #expect(throws: BusmasterError.self) { try DeviceSelector(parsing: text) }
    }
}
