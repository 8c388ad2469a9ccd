import HeraldCore
import Testing

@Suite("Client address behind trusted proxies")
struct TrustedProxiesTests {
    let proxies = try! TrustedProxies(parsing: ["10.0.0.0/8", "2001:db8:ffff::/48"])

    @Test func withoutTrustedProxiesForwardedForIsIgnored() {
        let none = TrustedProxies()
        #expect(none.clientAddress(peer: "10.0.0.2", forwardedFor: ["203.0.113.9"]) == "10.0.0.2")
    }

    @Test func anUntrustedPeerCannotSpoofItsAddress() {
        let address = proxies.clientAddress(peer: "198.51.100.7", forwardedFor: ["203.0.113.9, 10.0.0.2"])
        #expect(address == "198.51.100.7")
    }

    @Test func aTrustedPeerNamesTheClient() {
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["203.0.113.9"]) == "203.0.113.9")
    }

    @Test func aTrustedPeerWithoutForwardedForIsTheClient() {
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: []) == "10.0.0.2")
    }

    @Test func aChainOfTwoProxiesIsWalkedRightToLeft() {
        // The client put a fake address first; the first proxy appended the real one, the second its peer.
        let address = proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["1.2.3.4, 203.0.113.9, 10.0.0.3"])
        #expect(address == "203.0.113.9")
    }

    @Test func severalHeadersAreReadInOrder() {
        let address = proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["1.2.3.4", "203.0.113.9", "10.0.0.3"])
        #expect(address == "203.0.113.9")
    }

    @Test func whenEveryEntryIsTrustedTheLeftmostIsTheClient() {
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["10.1.1.1, 10.0.0.3"]) == "10.1.1.1")
    }

    @Test func ipv6PeersAndClients() {
        let address = proxies.clientAddress(
            peer: "2001:db8:ffff::1", forwardedFor: ["[2001:db8:1::5], 2001:db8:ffff::2"])
        #expect(address == "2001:db8:1::5")
        #expect(proxies.clientAddress(peer: "::ffff:10.0.0.2", forwardedFor: ["203.0.113.9"]) == "203.0.113.9")
    }

    @Test(arguments: ["unknown", "", "203.0.113.9:443", "fe80::1%eth0", "1.2.3.4.5", "<script>", "203.0.113.9 x"])
    func anEntryThatIsNotAnAddressStopsTheWalkAtTheProxy(garbage: String) {
        let address = proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["203.0.113.9, \(garbage), 10.0.0.3"])
        #expect(address == "10.0.0.2")
    }

    @Test func garbageLeftOfTheClientIsNeverReached() {
        #expect(proxies.clientAddress(peer: "10.0.0.2", forwardedFor: ["junk, 203.0.113.9"]) == "203.0.113.9")
    }

    @Test func entriesAreParsedOnceAndInvalidOnesNamed() throws {
        #expect(
            TrustedProxies.entries(inEnvironmentValue: " 10.0.0.0/8, ::1  127.0.0.1/32,") == [
                "10.0.0.0/8", "::1", "127.0.0.1/32",
            ])
        #expect(throws: TrustedProxies.InvalidEntry(text: "10.0.0.0/33")) {
            try TrustedProxies(parsing: ["127.0.0.1", "10.0.0.0/33"])
        }
        #expect(try TrustedProxies(parsing: ["::1", "127.0.0.1"]).description == "0:0:0:0:0:0:0:1/128,127.0.0.1/32")
    }
}
