import ArgumentParser
import Foundation
import HeraldCore

/// A phone number given on the command line (`suppressions`, `forget`), read as the rules read
/// recipients: national numbers in the rules' `defaults.country`; without a rules file, only
/// numbers written with their country code.
enum NumberArgument {
    /// The rules at `path`, nil when there is no such file; their problems and exit status 2
    /// when they do not load.
    static func rulesIfPresent(_ path: String) throws -> RuleSet? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try RuleSet.load(path: path)
        } catch let errors as ConfigErrors {
            for error in errors.errors { printError(error.description) }
            throw ExitCode(2)
        }
    }

    /// The number in E.164, or why it is not one.
    static func e164(_ number: String, ruleSet: RuleSet?) -> Result<String, PhoneNumber.Problem> {
        PhoneNumber.normalize(number, defaultCountry: ruleSet?.defaults.country)
    }
}
