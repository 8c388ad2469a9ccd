/// A template name resolved, when the template loads, to fields of the canonical event.
///
/// Mustache looks a name's first part up in the innermost section's value, then outwards; the
/// kind of each section's value is known at load (`order`, a line of `items`, the provider's JSON),
/// so only the places that can answer are kept, each with the steps below it. Rendering follows
/// them without splitting or comparing names, except under `payload.*`, whose keys are the
/// provider's own.
struct ResolvedName: Sendable {
    /// One place the first part may be found: the section value at `depth` of the stack (0 is the
    /// event) and the steps from it. When the first step finds a value, the name is settled there.
    struct Candidate: Sendable, Equatable {
        var depth: Int
        var steps: [Step]
        /// A later part can never be found below the first (`order.nothing`): missing.
        var broken: Bool
    }

    enum Step: Sendable, Equatable {
        case root(RootField)
        case order(OrderField)
        case person(PersonField)
        case item(ItemField)
        /// A line of `items`.
        case index(Int)
        /// A member of the provider's JSON, or an element of a JSON list when the key is a number.
        case key(String, index: Int?)
        /// Resolved while rendering, for the rare section whose value's kind depends on the event.
        case named(String)
    }

    /// The kind of a value, as known when the template loads.
    enum Shape: Sendable, Equatable {
        case root, order, customer, driver, items, item, json, text, flag
        /// Known only while rendering.
        case dynamic
    }

    var candidates: [Candidate]
    /// `{{.}}`: the innermost section's value.
    var isImplicit: Bool
    /// The value a section around the tag found, at this depth of the stack: `{{order.amount}}`
    /// inside `{{#order.amount}}` prints it without computing it again.
    var frame: Int?
    /// The kind of the value this name finds.
    var shape: Shape

    /// Resolves `name` where the section values around it have the kinds `stack` (outermost first).
    init(_ name: MustacheName, stack: [Shape]) {
        guard let first = name.parts.first else {
            self.init(candidates: [], isImplicit: true, shape: stack.last ?? .root)
            return
        }
        var candidates: [Candidate] = []
        var shapes: [Shape] = []
        for depth in stack.indices.reversed() {
            guard let (step, firstShape) = Self.step(first, on: stack[depth]) else { continue }
            var steps = [step]
            var shape = firstShape
            var broken = false
            for part in name.parts.dropFirst() {
                guard let (next, nextShape) = Self.step(part, on: shape) else {
                    broken = true
                    break
                }
                steps.append(next)
                shape = nextShape
            }
            candidates.append(Candidate(depth: depth, steps: broken ? [step] : steps, broken: broken))
            if !broken { shapes.append(shape) }
        }
        let shape = shapes.first.map { first in shapes.allSatisfy { $0 == first } ? first : .dynamic } ?? .text
        self.init(candidates: candidates, isImplicit: false, shape: shape)
    }

    private init(candidates: [Candidate], isImplicit: Bool, shape: Shape, frame: Int? = nil) {
        self.candidates = candidates
        self.isImplicit = isImplicit
        self.shape = shape
        self.frame = frame
    }

    /// The value of the section at `depth`, which looked this same name up.
    func reading(frame depth: Int) -> ResolvedName {
        ResolvedName(candidates: candidates, isImplicit: false, shape: shape, frame: depth)
    }

    /// The step that finds `part` in a value of kind `shape`, and the kind of what it finds.
    static func step(_ part: String, on shape: Shape) -> (Step, Shape)? {
        switch shape {
        case .root:
            guard let field = RootField(rawValue: part) else { return nil }
            switch field {
            case .sandbox: return (.root(field), .flag)
            case .order: return (.root(field), .order)
            case .customer: return (.root(field), .customer)
            case .driver: return (.root(field), .driver)
            case .items: return (.root(field), .items)
            case .payload: return (.root(field), .json)
            default: return (.root(field), .text)
            }
        case .order: return OrderField(name: part).map { (.order($0), .text) }
        case .customer: return PersonField(rawValue: part).map { (.person($0), .text) }
        case .driver:
            guard PersonField.driverNames.contains(part) else { return nil }
            return PersonField(rawValue: part).map { (.person($0), .text) }
        case .item: return ItemField(rawValue: part).map { (.item($0), .text) }
        case .items: return Int(part).flatMap { $0 >= 0 ? (.index($0), .item) : nil }
        case .json: return (.key(part, index: Int(part)), .json)
        case .dynamic: return (.named(part), .dynamic)
        case .text, .flag: return nil
        }
    }
}
