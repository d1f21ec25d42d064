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
    assert_eq!(jobs.len(), 4);
    for job in jobs {
        let last = job["states"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        if job["faked_chunks"].as_u64().unwrap() > 0 {
            assert_eq!(last, "Slashed", "{job}");
            assert_eq!(job["provider_slashed"].as_f64().unwrap(), 50.0);
        } else {
            assert_eq!(last, "Settled", "{job}");
            assert_eq!(job["provider_paid"].as_f64().unwrap(), 18.8);
        }
    }
    // One fault was contested and upheld by the committee.
    assert!(jobs.iter().any(|j| j["states"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "Contested")));
    // A canary job catches the lazy verifier: its pass is challenged and its bond slashed.
    let canary = &report["canary"];
    assert_eq!(canary["lazy_verifier_caught"], true, "{canary}");
    assert_eq!(canary["lazy_verifier_slashed"].as_f64().unwrap(), 1.0);
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

/// The lazy-verifier section: at the default terms the 1-token bond needs a third of all
/// jobs to be canaries; the bond it prints for the asked rate makes laziness break even
/// there, and every chunk planted past `N − k` catches every blind pass.
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
    assert!((0.32..0.33).contains(&rate), "{lazy}");
    let bond = lazy["bond_needed"].as_f64().unwrap().ceil() as u64;
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
