//! The `assay` binary, driven as a user would.

use assert_cmd::Command;
use predicates::prelude::*;

fn assay() -> Command {
    let mut cmd = Command::cargo_bin("assay").expect("binary built");
    cmd.env("RUST_LOG", "error");
    cmd
}

#[test]
fn demo_catches_and_slashes_the_cheater_and_pays_the_honest_provider() {
    let out = tempfile::tempdir().unwrap();
    let output = assay()
        .args(["demo", "--json", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is JSON only");
    assert_eq!(report["cheater_caught"], true);
    let jobs = report["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 5);
    // Audited inference: the digits MLP job settled, its outputs read back per image give
    // ONNX Runtime's accuracy on the 360 test images (models/digits/train.py).
    assert_eq!(report["inference"]["items"], 360, "{}", report["inference"]);
    assert_eq!(
        report["inference"]["correct"], 329,
        "{}",
        report["inference"]
    );
    for job in jobs {
        let last = job["states"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        // The report names the provider who ran the job (it once named the next actor).
        let cheated = job["faked_chunks"].as_u64().unwrap() > 0;
        let provider = if cheated {
            "mallory (cheating provider)"
        } else {
            "ada (honest provider)"
        };
        assert_eq!(job["provider"], provider, "{job}");
        // The verifier daemons told the demo who audited each job and what it found.
        assert!(
            job["verifier"].as_str().unwrap().ends_with("(verifier)"),
            "{job}"
        );
        let finding = job["finding"].as_str().unwrap();
        if cheated {
            assert!(finding.starts_with("fault at chunk"), "{job}");
        } else {
            assert!(finding.ends_with("sampled chunks correct"), "{job}");
        }
        if cheated {
            assert_eq!(last, "Slashed", "{job}");
            assert_eq!(job["provider_slashed"].as_f64().unwrap(), 64.0);
        } else {
            assert_eq!(last, "Settled", "{job}");
            // The shipped terms: the verifier is paid 5 % of the 20-token price plus the
            // sampled share k/N of it, the treasury 1 %; the provider the rest.
            let sampled = job["samples"].as_f64().unwrap() / job["chunks"].as_f64().unwrap();
            let verifier_fee = 1.0 + 20.0 * sampled;
            assert_eq!(
                job["verifier_paid"].as_f64().unwrap(),
                verifier_fee,
                "{job}"
            );
            let paid = job["provider_paid"].as_f64().unwrap();
            assert!((paid - (20.0 - 0.2 - verifier_fee)).abs() < 1e-9, "{job}");
        }
    }
    // One fault was contested and upheld by the committee.
    assert!(jobs.iter().any(|j| j["states"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "Contested")));
    // A canary job catches the lazy verifier: its pass is challenged and its bond slashed.
    // At the shipped terms a 4-token canary of 16 chunks sampling 8 pays a fee of 2.2
    // tokens and bonds 50 fees: the blind pass that saved re-executing 8 chunks (about 1.6
    // tokens of compute) costs 110 tokens.
    let canary = &report["canary"];
    assert_eq!(canary["lazy_verifier_caught"], true, "{canary}");
    assert_eq!(canary["lazy_verifier_slashed"].as_f64().unwrap(), 110.0);
    // The treasury row is the market's treasury vault: it gained the protocol fees.
    let treasury = report["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[0] == "treasury")
        .expect("a treasury row");
    assert!(
        treasury[2].as_f64().unwrap() > treasury[1].as_f64().unwrap(),
        "{treasury}"
    );
    let caught = canary["jobs"].as_array().unwrap().last().unwrap();
    let states: Vec<&str> = caught["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(
        states[states.len() - 3..],
        ["Passed", "PassChallenged", "Slashed"],
        "{caught}"
    );
    for image in report["images"].as_array().unwrap() {
        let bytes = std::fs::read(image.as_str().unwrap()).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
    }
}

#[test]
fn demo_rejects_an_impossible_cheat_fraction() {
    assay()
        .args(["demo", "--cheat-fraction", "0"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--cheat-fraction must be in (0, 1]",
        ));
}

#[test]
fn economics_reports_detection_and_the_smallest_safe_sample() {
    assay()
        .args([
            "economics",
            "--chunks",
            "4096",
            "--samples",
            "64",
            "--price",
            "100",
            "--collateral",
            "200",
            "--provider-cost",
            "80",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "cheating never pays at k = 64: yes",
        ));
    let out = assay()
        .args(["--json", "economics", "--chunks", "100", "--samples", "10"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["samples"], 10);
}

/// The lazy-verifier section (issue #27's corrected formula: a caught blind pass forfeits
/// the bond and the finder share φ·C an honest audit of the canary would have earned): at
/// the command's default terms laziness stops paying from a canary rate of 4.78 % and a
/// 2 % rate needs a bond of about 58 tokens; the bond it prints for the asked rate makes
/// laziness break even there, and every chunk planted past `N − k` catches every blind
/// pass.
#[test]
fn economics_sizes_the_canary_rate_and_bond_that_make_laziness_lose() {
    let run = |extra: &[&str]| -> serde_json::Value {
        let out = assay()
            .args(["--json", "economics"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["lazy_verifiers"].clone()
    };
    let lazy = run(&[]);
    let rate = lazy["break_even_canary_rate"].as_f64().unwrap();
    assert!((0.0477..0.0479).contains(&rate), "{lazy}");
    let bond = lazy["bond_needed"].as_f64().unwrap().ceil() as u64;
    assert_eq!(bond, 57_980_252, "{lazy}");
    let at_bond = run(&["--bond", &bond.to_string()]);
    let rate = at_bond["break_even_canary_rate"].as_f64().unwrap();
    assert!((rate - 0.02).abs() < 1e-6, "{at_bond}");
    let all = run(&["--chunks", "100", "--samples", "10", "--planted", "91"]);
    assert_eq!(all["planted_in_sample"].as_f64().unwrap(), 1.0);
    assay()
        .args(["economics", "--canary-rate", "1.5"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--canary-rate must be in [0, 1)"));
}

#[test]
fn economics_rejects_more_samples_than_chunks() {
    assay()
        .args(["economics", "--chunks", "8", "--samples", "9"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "--samples must be between 1 and --chunks (8)",
        ));
}

#[test]
fn help_explains_every_command() {
    assay()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("demo").and(predicate::str::contains("economics")));
    assay()
        .args(["demo", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--cheat-fraction"));
}

/// `assay localnet` without the SBF programs, or asked for faults Surfpool cannot inject,
/// says what to do and starts nothing.
#[test]
fn localnet_without_its_programs_or_with_faults_but_no_embedded_bank_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    assay()
        .args(["localnet", "--port", "0", "--ledger"])
        .arg(dir.path().join("ledger"))
        .arg("--programs")
        .arg(dir.path().join("no-such-dir"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("assay_stake.so")
                .and(predicate::str::contains("scripts/sbf/build.sh")),
        );
    assay()
        .args(["localnet", "--port", "0", "--fault-rate", "0.1", "--ledger"])
        .arg(dir.path().join("ledger"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .failure()
        .stderr(predicate::str::contains("need --embedded"));
}

/// Errors of the first hour send the user the right way (issue #29, 7).
#[test]
fn balance_of_an_address_reads_no_keypair_and_faucet_names_the_ledgers_authority() {
    let dir = tempfile::tempdir().unwrap();
    let missing_key = dir.path().join("no-such-key.json");
    let address = "11111111111111111111111111111111";
    // A balance is read, not signed: with an address, a missing keypair is no error, and
    // what fails is reaching the chain.
    assay()
        .env("SOLANA_CONFIG", dir.path().join("no-config.yml"))
        .arg("--keypair")
        .arg(&missing_key)
        .args(["balance", address, "--url", "http://127.0.0.1:9"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("cannot reach an Assay deployment at http://127.0.0.1:9")
                .and(predicate::str::contains("keypair file").not()),
        );
    // The faucet's authority is the ledger's admin.json; generating a key cannot help.
    let ledger_admin = dir.path().join("ledger").join("admin.json");
    assay()
        .env("SOLANA_CONFIG", dir.path().join("no-config.yml"))
        .args(["faucet", address, "--tokens", "1", "--wait-s", "0"])
        .args(["--url", "http://127.0.0.1:9"])
        .arg("--authority")
        .arg(&ledger_admin)
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("--authority LEDGER/admin.json")
                .and(predicate::str::contains("a new key cannot"))
                .and(predicate::str::contains("assay keygen").not()),
        );
}

/// `assay job new template` is a kernel of one's own to start from: it dry-runs as
/// written, its generator writes the input it ships, and an edited kernel re-seals and
/// runs (issue #29, 6; the walk-through in docs/kernels.md).
#[test]
fn the_kernel_template_dry_runs_at_once_and_after_an_edit_and_a_reseal() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("mine");
    assay()
        .args(["job", "new", "template", "--out"])
        .arg(&job)
        .assert()
        .success();
    let manifest = job.join("manifest.json");
    let dry_run = |what: &str| {
        let out = assay()
            .env("NODEVICE_SELECT", "1")
            .args(["job", "run", "--json"])
            .arg(&manifest)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(
            out.stdout
                .split(|&b| b == b'\n')
                .rfind(|l| !l.is_empty())
                .unwrap(),
        )
        .unwrap();
        v
    };
    let first = dry_run("as written");
    // The generator writes exactly the input the template ships.
    let shipped = std::fs::read(job.join("input-0.bin")).unwrap();
    std::fs::remove_file(job.join("input-0.bin")).unwrap();
    let python = std::process::Command::new("python3")
        .arg(job.join("make_input.py"))
        .status()
        .expect("python3 runs");
    assert!(python.success());
    assert_eq!(std::fs::read(job.join("input-0.bin")).unwrap(), shipped);
    // Edit the computation: the old seal no longer fits, a re-seal does, and the result
    // root changes.
    let kernel = job.join("kernel.wgsl");
    let source = std::fs::read_to_string(&kernel).unwrap();
    let edited = source.replace("x * 2654435761u + chunk.index", "x ^ (chunk.index << 8u)");
    assert_ne!(edited, source, "the template's computation line");
    std::fs::write(&kernel, edited).unwrap();
    assay()
        .args(["job", "run"])
        .arg(&manifest)
        .assert()
        .failure()
        .stderr(predicate::str::contains("hash"));
    assay()
        .args(["job", "seal"])
        .arg(&manifest)
        .assert()
        .success();
    let second = dry_run("edited and re-sealed");
    assert_ne!(
        first["result_root"], second["result_root"],
        "{first} {second}"
    );
    assert!(first["result_root"].is_string(), "{first}");
}
