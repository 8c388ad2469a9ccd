import HeraldCore
import Testing

@Suite("A number found in stored text, however it was written")
struct NumberMentionsTests {
    let karim = NumberMentions(e164: "+212661234567", defaultCountry: "MA")

    @Test(arguments: [
        #"{"phone":"+212661234567"}"#, #"{"phone":212661234567}"#, "call 00212661234567", "tel 0661234567",
        "Call 066 123 4567 before delivery", "06-61-23-45-67", "+212 661-234567", "(0661) 23 45 67",
        "ref ORD212661234567X",
    ])
    func everySpellingIsFound(text: String) {
        #expect(karim.found(in: text))
        #expect(karim.found(in: Array(text.utf8)))
    }

    @Test(arguments: [
        #"{"phone":"+212662000111"}"#, "0661234568", "amount 1799 on 2026-05-09", "661234", "", "no digits",
    ])
    func otherNumbersAreNot(text: String) {
        #expect(!karim.found(in: text))
    }

    /// The national spelling is read in the number's own country, whatever the rules' default.
    @Test func aNationalSpellingIsReadInTheNumbersOwnCountry() {
        let lebanese = NumberMentions(e164: "+9613123456", defaultCountry: "MA")
        #expect(lebanese.found(in: "03 123 456"))
        #expect(NumberMentions(e164: "+212661234567", defaultCountry: nil).found(in: "0661234567"))
    }
}
