import HTTPTypes
import HeraldCore
import HummingbirdTesting
import NIOCore

extension TestClientProtocol {
    /// Posts `fields` as Twilio posts a status callback or an inbound message: a form, with
    /// `X-Twilio-Signature` computed over `publicURL + uri` (the address Twilio called, query
    /// included) and the fields, keyed with `authToken`. Answers the status and the body.
    func postSignedTwilioForm(
        _ uri: String, publicURL: String, fields: [ReceiptField], authToken: String
    ) async throws -> (HTTPResponse.Status, String) {
        let signature = TwilioSignature.compute(url: publicURL + uri, fields: fields, authToken: authToken)
        return try await execute(
            uri: uri, method: .post,
            headers: [
                .contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Twilio-Signature")!: signature,
            ],
            body: ByteBuffer(string: FormBody.encode(fields))
        ) { ($0.status, String(buffer: $0.body)) }
    }
}
