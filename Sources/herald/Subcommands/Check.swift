import ArgumentParser
import Foundation
import HeraldCore

extension Herald {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check rules.yaml against the providers, channels and templates it names.",
            discussion: """
                Prints one line per problem as FILE:LINE:COL: error|warning: message.
                Exit status: 0 clean (warnings allowed unless --strict), 1 problems found.
                With --samples DIR, every body path a provider maps is also tried against that provider's
                samples (DIR/<provider>/**/*.json, bare bodies or envelopes); a path none of them has is a
                warning.
                """)

        @OptionGroup var rulesOptions: RulesOptions

        @Flag(help: "Report unset environment variables as warnings, not errors (CI of a rules repository).")
        var allowMissingEnv = false

        @Flag(help: "Fail on warnings too.")
        var strict = false

        @Option(help: "A folder of <provider>/ folders of sample webhooks to try each mapped field path against.")
        var samples: String?

        func run() throws {
            let ruleSet = try rulesOptions.loadRuleSet()
            // A missing or empty templates folder stops here: every rule would be reported once more.
            if let folderProblem = TemplateStore.folderProblem(path: rulesOptions.templates) {
                printError(folderProblem.description)
                throw ExitCode(1)
            }
            let checked = RuleCheck(
                ruleSet: ruleSet, templatesPath: rulesOptions.templates, allowMissingEnvironment: allowMissingEnv
            ).run()
            var sampleProblems: [ConfigError] = []
            if let samples {
                do {
                    let bodies = try SampleCheck.load(directory: samples, ruleSet: ruleSet)
                    sampleProblems = SampleCheck(ruleSet: ruleSet, samples: bodies).run()
                } catch {
                    printError("error: \(error)")
                    throw ExitCode(1)
                }
            }
            let problems = (checked + sampleProblems).sorted { ($0.line, $0.column) < ($1.line, $1.column) }
            for problem in problems { print(problem.description) }
            // Templates that do not compile, or WhatsApp bindings that do not load.
            // and names the templates print that the canonical event does not have.
            var templateErrors: [TemplateError] = []
            var unknownNames: [ConfigError] = []
            do {
                unknownNames = try TemplateStore.load(path: rulesOptions.templates).unknownNames()
            } catch let errors as TemplateErrors {
                templateErrors = errors.errors
            }
            for error in templateErrors { print(error.description) }
            for problem in unknownNames { print(problem.description) }
            let errors = problems.filter { $0.severity == .error }.count + templateErrors.count + unknownNames.count
            let warnings = problems.filter { $0.severity == .warning }.count
            printError(
                "\(rulesOptions.rules): \(ruleSet.rules.count) rules, \(ruleSet.providers.count) providers, "
                    + "\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            if errors > 0 || (strict && warnings > 0) { throw ExitCode(1) }
        }
    }
}
