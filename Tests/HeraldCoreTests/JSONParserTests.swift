import HeraldCore
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    @Test func keepsNumbersAsWritten() throws {
        let value = try JSONParser.parse(Array(#"{"amount": 3.000, "big": 12345678901234567890, "neg": -1.5e3}"#.utf8))
        #expect(value["amount"] == .number("3.000"))
        #expect(value["big"] == .number("12345678901234567890"))
        #expect(value["neg"] == .number("-1.5e3"))
    }

    @Test func decodesEscapesAndUnicode() throws {
        let value = try JSONParser.parse(Array(#"{"a":"\u0645\u0631\u062d\u0628\u0627 \ud83d\ude00 \"q\"\n","b":"Thiéboudienne"}"#.utf8))
        #expect(value["a"] == .string("مرحبا 😀 \"q\"\n"))
        #expect(value["b"] == .string("Thiéboudienne"))
    }

    @Test(
        "rejects malformed input with the place it stopped",
        arguments: [
            ("{\"a\": 1", "invalid JSON at byte 7: unexpected end of input"),
            ("{\"a\": 01}", "invalid JSON at byte 7: expected ',' or '}'"),
            ("[1, 2,]", "invalid JSON at byte 6: unexpected character"),
            ("{\"a\": tru}", "invalid JSON at byte 6: invalid literal"),
            ("\"\\ud800\"", "invalid JSON at byte 7: unpaired surrogate in \\u escape"),
            ("{} {}", "invalid JSON at byte 3: unexpected data after the JSON value"),
            ("", "invalid JSON at byte 0: unexpected end of input"),
        ])
    func rejects(text: String, message: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
        do {
            _ = try JSONParser.parse(Array(text.utf8))
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func rejectsInvalidUTF8() {
        let bytes: [UInt8] = Array(#"{"name":"Kar"#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)
        #expect(throws: JSONParseError(reason: "string is not valid UTF-8", offset: 9)) { try JSONParser.parse(bytes) }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = Array(String(repeating: "[", count: 100_000).utf8)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let fine = Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test func serializesBackInDocumentOrder() throws {
        let text = #"{"z":1,"a":[true,null,"x\"y"],"m":{"k":"v"}}"#
        #expect(try JSONParser.parse(Array(text.utf8)).serialized() == text)
    }
}
