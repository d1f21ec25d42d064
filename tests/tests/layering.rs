//! The house's layering, checked from cargo's own view of the workspace.
//!
//! Bottom to top: protocol → programs, gpu → client (the SDK) → testkit → localnet (the
//! Surfpool host) → node (every role) → the binaries (verifier, cli) → tests. A crate may
//! depend only on crates below it, and the SDK, the roles and the verifier binary carry
//! no bank: a buyer who only wants to post a job, and a verifier who only audits, compile
//! no solana-program-test.

use std::collections::BTreeMap;
use std::process::Command;

/// Each workspace crate's level; a dependency (of any kind) must sit strictly lower.
const LEVELS: &[(&str, u32)] = &[
    ("assay-protocol", 0),
    ("assay-stake", 1),
    ("assay-gpu", 1),
    ("assay-market", 2),
    ("assay-model", 2),
    ("assay-client", 3),
    ("assay-testkit", 4),
    ("assay-localnet", 5),
    ("assay-node", 6),
    ("assay-verifier", 7),
    ("assay-cli", 7),
    ("assay-tests", 8),
];

/// Crates that host a bank, serve HTTP or host Surfpool: the test kit's, never the SDK's.
const HOSTING_CRATES: &[&str] = &[
    "solana-program-test",
    "solana-banks-server",
    "solana-banks-client",
    "surfpool-core",
    "assay-testkit",
];

fn cargo(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("cargo prints UTF-8")
}

/// `package`'s normal (non-dev, non-build) dependency tree, one `name vX.Y.Z` per crate.
fn normal_tree(package: &str) -> Vec<String> {
    let tree = cargo(&[
        "tree",
        "--offline",
        "-p",
        package,
        "-e",
        "normal",
        "--prefix",
        "none",
    ]);
    let mut crates: Vec<String> = tree
        .lines()
        .map(|line| line.trim_end_matches(" (*)").to_string())
        .filter(|line| !line.is_empty())
        .collect();
    crates.sort();
    crates.dedup();
    crates
}

#[test]
fn no_workspace_crate_depends_on_a_crate_above_it() {
    let levels: BTreeMap<&str, u32> = LEVELS.iter().copied().collect();
    let metadata: serde_json::Value = serde_json::from_str(&cargo(&[
        "metadata",
        "--offline",
        "--no-deps",
        "--format-version",
        "1",
    ]))
    .expect("cargo metadata is JSON");
    let mut upward = vec![];
    let packages = metadata["packages"].as_array().expect("packages");
    for package in packages {
        let name = package["name"].as_str().expect("name");
        let level = *levels.get(name).unwrap_or_else(|| {
            panic!("{name} is a new workspace crate: give it a level in LEVELS")
        });
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let dep_name = dep["name"].as_str().expect("dependency name");
            if let Some(&dep_level) = levels.get(dep_name) {
                if dep_level >= level {
                    upward.push(format!(
                        "{name} (level {level}) → {dep_name} (level {dep_level})"
                    ));
                }
            }
        }
    }
    assert_eq!(
        packages.len(),
        LEVELS.len(),
        "every level names a workspace crate"
    );
    assert!(
        upward.is_empty(),
        "dependencies that point up or sideways: {upward:#?}"
    );
}

#[test]
fn the_sdk_the_roles_and_the_verifier_binary_carry_no_bank_server_or_surfpool() {
    for package in ["assay-client", "assay-node", "assay-verifier"] {
        let tree = normal_tree(package);
        let hosting: Vec<&String> = tree
            .iter()
            .filter(|line| {
                HOSTING_CRATES
                    .iter()
                    .any(|crate_name| line.split(' ').next() == Some(crate_name))
            })
            .collect();
        assert!(hosting.is_empty(), "{package} links {hosting:?}");
    }
    // hyper arrives with solana-rpc-client as an HTTP client; the SDK never serves.
    let features = cargo(&[
        "tree",
        "--offline",
        "-p",
        "assay-client",
        "-e",
        "features",
        "--prefix",
        "none",
    ]);
    assert!(
        !features
            .lines()
            .any(|line| line.starts_with("hyper feature \"server\"")),
        "assay-client enables hyper's server"
    );
    // The bank alone is hundreds of crates: the SDK stays well under the test kit.
    let (sdk, kit) = (
        normal_tree("assay-client").len(),
        normal_tree("assay-testkit").len(),
    );
    assert!(
        sdk * 3 < kit * 2,
        "assay-client has {sdk} crates, assay-testkit {kit}"
    );
}

/// Issue #31: providers and verifiers run only the hashed WGSL a model compiles to; the
/// ONNX parser is the buyer's (`assay-model`, linked by the CLI), never the roles'.
#[test]
fn the_roles_and_the_verifier_binary_never_link_the_onnx_compiler() {
    for package in ["assay-node", "assay-verifier"] {
        let tree = normal_tree(package);
        let onnx: Vec<&String> = tree
            .iter()
            .filter(|line| {
                let name = line.split(' ').next();
                name == Some("onnx-ir") || name == Some("assay-model")
            })
            .collect();
        assert!(onnx.is_empty(), "{package} links {onnx:?}");
    }
    assert!(
        normal_tree("assay-cli")
            .iter()
            .any(|line| line.starts_with("onnx-ir ")),
        "the check looks for the right name: the CLI links the compiler"
    );
}

/// Most lines a function outside tests and benches may span (issue #28: long functions
/// are hard to review).
const MAX_FUNCTION_LINES: usize = 150;

/// Every function in the workspace's library and binary sources (`src/` of each crate,
/// tests and benches aside) spans at most [`MAX_FUNCTION_LINES`] lines, counted from its
/// `fn` line to the closing brace rustfmt puts at the same indentation.
#[test]
fn no_function_outside_tests_is_longer_than_150_lines() {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut sources = vec![];
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            let skipped = ["target", "node_modules", "tests", "benches", "shared"];
            if path.is_dir() && !name.starts_with('.') && !skipped.contains(&name.as_str()) {
                stack.push(path);
            } else if name.ends_with(".rs") && path.components().any(|c| c.as_os_str() == "src") {
                sources.push(path);
            }
        }
    }
    assert!(sources.len() > 50, "found the sources: {}", sources.len());
    let mut long = vec![];
    for path in &sources {
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let code = line.trim_start();
            let indent = line.len() - code.len();
            let is_fn = [
                "fn ",
                "pub fn ",
                "async fn ",
                "pub async fn ",
                "pub(crate) fn ",
            ]
            .iter()
            .any(|p| code.starts_with(p))
                && !code.ends_with(';');
            if is_fn {
                let close = " ".repeat(indent) + "}";
                let end = (i + 1..lines.len())
                    .find(|&j| lines[j] == close || lines[j].starts_with(&(close.clone() + " ")))
                    .unwrap_or(lines.len() - 1);
                if end - i + 1 > MAX_FUNCTION_LINES {
                    long.push(format!(
                        "{}:{} ({} lines)",
                        path.display(),
                        i + 1,
                        end - i + 1
                    ));
                }
                i = end;
            }
            i += 1;
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines: {long:#?}"
    );
}
