//! The README's command block, run as a new user would on a fresh machine: extracted from
//! README.md and run by bash in an empty directory with an empty HOME, on a fresh
//! `assay localnet` (Solana's usual ports 8899/8900, programs as SBF). Only the block's
//! first line (`cargo build --release …` and `export PATH=…`) is replaced: the debug
//! binaries this test run built go on `PATH` instead.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The longest the block may take: the verifier's stake waits up to one draw epoch
/// (256 slots of 400 ms), then a job runs, is audited and sits out its pass window.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(540);

/// The ```sh block of README.md that starts a local chain.
fn readme_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    readme
        .split("```sh\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default())
        .find(|block| block.contains("assay localnet &"))
        .expect("README has a ```sh block that runs `assay localnet &`")
        .to_string()
}

/// Where this test run's binaries are (`assay` and `assay-verifier`).
fn binaries() -> PathBuf {
    let assay = assert_cmd::cargo::cargo_bin("assay");
    let dir = assay.parent().expect("target dir").to_path_buf();
    assert!(
        dir.join("assay-verifier").is_file(),
        "{} has no assay-verifier: build it first (`cargo build -p assay-verifier`, which \
         `cargo test --workspace` does)",
        dir.display()
    );
    dir
}

/// Kills the script's whole process group (the chain, the daemon and the worker it left
/// running in the background) when dropped.
struct ProcessGroup(i32);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        for signal in ["-TERM", "-KILL"] {
            let _ = Command::new("kill")
                .args([signal, "--", &format!("-{}", self.0)])
                .stderr(Stdio::null())
                .status();
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn the_readmes_command_block_runs_verbatim_on_a_fresh_local_chain() {
    let block = readme_block();
    let first = block.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("cargo build --release -p assay-cli -p assay-verifier"),
        "the block starts by building the binaries: {first}"
    );
    let body: Vec<&str> = block.lines().skip(1).collect();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // After the block: the job's closed record, to check it was audited.
    let script = format!(
        "set -euo pipefail\nexport PATH={}:$PATH\n{}\nassay -k buyer.json job status 1 --json > status.json\n",
        binaries().display(),
        body.join("\n")
    );
    std::fs::write(dir.path().join("readme.sh"), &script).unwrap();
    // The block runs from the repository root: its model job reads models/.
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    std::os::unix::fs::symlink(models.canonicalize().unwrap(), dir.path().join("models")).unwrap();
    let (stdout, stderr) = (dir.path().join("stdout.txt"), dir.path().join("stderr.txt"));
    let mut child = Command::new("bash")
        .arg("readme.sh")
        .current_dir(dir.path())
        .env("HOME", &home)
        .env_remove("SOLANA_CONFIG")
        .env_remove("ASSAY_URL")
        .env_remove("ASSAY_KEYPAIR")
        .env_remove("ASSAY_STORE")
        .env_remove("ASSAY_HOME")
        .env("NODEVICE_SELECT", "1")
        .env("RUST_LOG", "warn")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .process_group(0)
        .spawn()
        .expect("bash runs");
    let _group = ProcessGroup(child.id() as i32);
    let deadline = Instant::now() + BLOCK_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let (out, err) = (read(&stdout), read(&stderr));
    let status = status.unwrap_or_else(|| {
        panic!("the block ran past {BLOCK_TIMEOUT:?}\nstdout:\n{out}\nstderr:\n{err}")
    });
    assert!(
        status.success(),
        "the block failed ({status})\nstdout:\n{out}\nstderr:\n{err}"
    );

    // The job settled audited: a verifier was drawn and paid, the provider paid.
    let record: serde_json::Value = serde_json::from_str(&read(&dir.path().join("status.json")))
        .unwrap_or_else(|e| panic!("job status --json: {e}\nstdout:\n{out}"));
    assert_eq!(record["final_state"], "Settled", "{record}");
    assert!(
        record["verifier"].is_string(),
        "no verifier was drawn: {record}"
    );
    assert_ne!(record["verifier_paid"], "0", "{record}");
    // Every output chunk came back, checked against the committed root.
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&dir.path().join("myjob/manifest.json"))).unwrap();
    let expected = manifest["grid"]["chunks"].as_u64().unwrap()
        * manifest["output"]["elements_per_chunk"].as_u64().unwrap()
        * 4;
    let outputs = std::fs::metadata(dir.path().join("outputs.bin")).expect("outputs.bin");
    assert_eq!(outputs.len(), expected, "stdout:\n{out}");
    // The model job settled and its outputs read back give the model's accuracy.
    assert!(
        out.contains("accuracy: 329/360"),
        "no accuracy line from `assay model read`:\n{out}"
    );
}
