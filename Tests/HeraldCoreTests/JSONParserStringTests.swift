import HeraldCore
import Testing

/// Strings with escapes are copied run by run, and ASCII strings are not validated again: the
/// decoded text and the errors stay what they were.
@Suite("JSON strings, decoded")
struct JSONParserStringTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func escapesBetweenLongRunsDecode() throws {
        let body = #"{"event":"order.updated","note":"Thé \"vert\" à 18 h\n"}"#
        var escaped: [UInt8] = []
        JSONValue.writeString(body, into: &escaped)
        let envelope = "{\"body\":" + String(decoding: escaped, as: UTF8.self) + "}"
        #expect(try parse(envelope)["body"] == .string(body))
        #expect(try parse(#"["\u00e9\ud83d\ude00 x\/y"]"#) == .array([.string("é😀 x/y")]))
        #expect(try parse(#"["plain ascii"]"#) == .array([.string("plain ascii")]))
    }

    @Test func invalidUTF8AndControlsAreStillRefused() {
        for bytes: [UInt8] in [
            [0x22, 0xC3, 0x28, 0x22],  // a lead byte without its continuation
            [0x22, 0x5C, 0x6E, 0xFF, 0x22],  // after an escape
            [0x22, 0x61, 0x0A, 0x22],  // a raw newline
            [0x22, 0x5C, 0x6E, 0x61, 0x01, 0x22],  // a control after an escape
        ] {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
        }
    }
}
