// swift-tools-version:6.1
// Herald's microbenchmarks (ordo-one/benchmark), a package of their own so that `swift test` at
// the top level never builds them. Run from this folder: `swift package benchmark`.
import PackageDescription

let package = Package(
    name: "HeraldBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // The name makes `package: "herald"` below work whatever the clone's folder is called.
        .package(name: "herald", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        .executableTarget(
            name: "HeraldCoreBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HeraldCore", package: "herald"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/HeraldCoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
