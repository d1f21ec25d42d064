//! Buyer and operator flows through the `assay` binary against `assay localnet` (Surfpool
//! with both programs as SBF), including bad input: each mistake is a
//! clear message and a non-zero exit, and nothing is lost on chain.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use assert_cmd::prelude::*;
use predicates::prelude::*;
use serde_json::Value;

mod support;
use support::*;

#[path = "../../../verifier/tests/support/static_blob_server.rs"]
mod static_blob_server;
use static_blob_server::StaticBlobServer;

#[test]
fn buyer_posts_a_job_a_provider_runs_it_and_the_buyer_checks_the_result() {
    let net = Localnet::start();
    net.auditor();
    let buyer = net.user("buyer", "100");
    let provider = net.user("provider", "500");
    let manifest = new_job(&net);

    let posted = net.json(
        Some(&buyer),
        &[
            "job",
            "post",
            manifest.to_str().unwrap(),
            "--price",
            "10",
            "--samples",
            "8",
            "--job-id",
            "1",
        ],
    );
    let job = posted["job"].as_str().unwrap().to_string();
    assert_eq!(posted["chunks"], 64);
    assert_eq!(net.tokens(&buyer), 90_000_000, "price escrowed");
    let status = net.json(Some(&buyer), &["job", "status", "1"]);
    assert_eq!(status["state"], "Open");
    assert_eq!(status["job"], job.as_str());
    assert!(
        status["step"].as_str().unwrap().contains("claim"),
        "{status}"
    );

    // The operator stakes, and the worker claims, runs on the GPU and commits.
    net.json(
        Some(&provider),
        &["stake", "deposit", "200", "--roles", "provider"],
    );
    let shown = net.json(Some(&provider), &["stake", "show"]);
    assert_eq!(shown["deposited"], 200_000_000);
    assert_eq!(shown["provider"], true);
    let committed = net.provider_once(&provider);
    assert_eq!(committed["job"], job.as_str());
    let status = net.json(Some(&buyer), &["job", "status", &job]);
    assert_eq!(status["state"], "Committed");
    assert_eq!(status["result_root"], committed["committed"]);
    let shown = net.json(Some(&provider), &["stake", "show"]);
    assert_eq!(
        shown["locked"], 32_000_000,
        "collateral (the floor, 3.2 × price) locked"
    );

    // A second pass finds nothing to do: no double claim. Exiting, the worker says that
    // the committed job is left undefended (a fault reported on it would be conceded).
    net.assay(Some(&provider))
        .args(["provider", "run", "--once"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no job to run"))
        .stderr(
            predicate::str::contains("1 of your jobs are still in their audit, with 32 tokens")
                .and(predicate::str::contains(job.as_str())),
        );

    // The buyer downloads the outputs; every chunk is checked against the root.
    let out_file = net.path("outputs.bin");
    let result = net.json(
        Some(&buyer),
        &["job", "result", &job, "--out", out_file.to_str().unwrap()],
    );
    assert_eq!(result["chunks"], 64);
    assert_eq!(std::fs::metadata(&out_file).unwrap().len(), 64 * 1024 * 4);

    // A committed job cannot be cancelled; nothing moves.
    net.assay(Some(&buyer))
        .args(["job", "cancel", &job])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "only an unclaimed (Open) job can be cancelled",
        ));
    assert_eq!(net.tokens(&buyer), 90_000_000);

    // Unstaking and the cooldown.
    let unstaking = net.json(Some(&provider), &["stake", "unstake", "50"]);
    assert_eq!(unstaking["unstaking"], 50_000_000);
    net.fails(&provider, &["stake", "withdraw"], "still cooling down");
    net.fails(
        &provider,
        &["stake", "unstake", "1000"],
        "can unstake between 0 and 118 tokens (deposited 200, locked 32, already unstaking 50)",
    );
}

/// Registering as a verifier takes no registry slot: `stake show` says a verifier below
/// the minimum is not drawn, and once it has the minimum it is (`stake sync` re-checks).
#[test]
fn a_verifier_is_drawable_only_with_the_minimum_stake() {
    let net = Localnet::start();
    let verifier = net.user("verifier", "10");
    net.json(
        Some(&verifier),
        &["stake", "deposit", "0.5", "--roles", "verifier"],
    );
    let shown = net.json(Some(&verifier), &["stake", "show"]);
    assert_eq!(shown["registry_weight"], Value::Null);
    assert_eq!(shown["min_verifier_stake"], 1_000_000);
    net.json(Some(&verifier), &["stake", "deposit", "1"]);
    let shown = net.json(Some(&verifier), &["stake", "show"]);
    assert_eq!(shown["registry_weight"], 1_500_000);
    let synced = net.json(Some(&verifier), &["stake", "sync"]);
    assert_eq!(synced["weight"], 1_500_000);
    let stranger = net.user("stranger", "1");
    net.fails(
        &stranger,
        &["stake", "sync"],
        "is not a registered operator",
    );
}

#[test]
fn buyer_cancels_and_watches_an_open_job_and_gets_the_escrow_back() {
    let net = Localnet::start();
    net.auditor();
    let buyer = net.user("buyer", "50");
    let manifest = new_job(&net);
    net.json(
        Some(&buyer),
        &[
            "job",
            "post",
            manifest.to_str().unwrap(),
            "--price",
            "5",
            "--job-id",
            "7",
        ],
    );
    assert_eq!(net.tokens(&buyer), 45_000_000);
    let watcher = net
        .assay(Some(&buyer))
        .args([
            "job",
            "watch",
            "7",
            "--timeout",
            "60",
            "--interval-ms",
            "100",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    net.assay(Some(&buyer))
        .args(["job", "cancel", "7"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cancelled job"));
    let watched = watcher.wait_with_output().unwrap();
    assert!(watched.status.success());
    let text = String::from_utf8_lossy(&watched.stdout);
    assert!(text.contains("Open"), "{text}");
    // How it ended, read from the closing transaction.
    assert!(text.contains("ended: Cancelled"), "{text}");
    assert_eq!(net.tokens(&buyer), 50_000_000, "escrow refunded");
}

#[test]
fn bad_input_is_a_clear_error_and_loses_nothing() {
    let net = Localnet::start();
    let buyer = net.user("buyer", "20");
    let manifest = new_job(&net);
    let m = manifest.to_str().unwrap();

    // Missing keypair.
    net.assay(Some(&net.path("absent.json")))
        .args(["job", "post", m, "--price", "1"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("keypair file").and(predicate::str::contains("not found")),
        );

    // Unknown job.
    net.fails(&buyer, &["job", "status", "424242"], "not found");
    net.fails(
        &buyer,
        &["job", "status", "not-an-address"],
        "is not a valid address",
    );
    // An availability challenge of a job that is not in its pass window.
    net.fails(&buyer, &["job", "challenge", "424242"], "not found");

    // A manifest that fails validation.
    let bad = net.path("job/bad.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["workgroup_size"] = serde_json::json!([0, 1, 1]);
    std::fs::write(&bad, v.to_string()).unwrap();
    net.assay(Some(&buyer))
        .args(["job", "post", bad.to_str().unwrap(), "--price", "1"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("invalid").or(predicate::str::contains("fails validation")),
        );

    // Insufficient balance.
    net.fails(
        &buyer,
        &["job", "post", m, "--price", "21"],
        "insufficient balance",
    );

    // k > N.
    net.fails(
        &buyer,
        &["job", "post", m, "--price", "1", "--samples", "65"],
        "exceeds the job's 64 chunks",
    );

    // A bad amount.
    net.fails(
        &buyer,
        &["job", "post", m, "--price", "1.0000001"],
        "decimal places",
    );

    // Limits only the chain knows fail before anything is uploaded or sent.
    net.fails(
        &buyer,
        &["job", "post", m, "--price", "1", "--claim-window", "0"],
        "--claim-window and --execution-window must be 1 to",
    );

    // A job that needs what no registered verifier declared, refused before any upload.
    let needy = net.path("job/needy.json");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["requires"] = serde_json::json!({ "features": ["subgroups"] });
    std::fs::write(&needy, v.to_string()).unwrap();
    net.fails(
        &buyer,
        &["job", "post", needy.to_str().unwrap(), "--price", "1"],
        "no registered verifier can run this job (it needs subgroups)",
    );

    // A provider mirror that readers could not use, refused before the worker starts.
    let mirror = net.path("mirror");
    let mirror = mirror.to_str().unwrap();
    for (url, message) in [
        (
            "file:///srv/blobs",
            "a mirror must be an http:// or https:// URL",
        ),
        ("https://user@host/blobs", "must not contain '@'"),
    ] {
        net.fails(
            &buyer,
            &[
                "provider",
                "run",
                "--once",
                "--mirror",
                mirror,
                "--mirror-url",
                url,
            ],
            message,
        );
    }
    net.fails(
        &buyer,
        &["provider", "run", "--once", "--mirror", mirror],
        "--mirror-url <URL>",
    );

    // Nothing was escrowed by any of it, no job exists, and no blob was uploaded.
    assert_eq!(net.tokens(&buyer), 20_000_000);
    let uploaded = std::fs::read_dir(net.path("blobs")).map_or(0, |d| d.count());
    assert_eq!(uploaded, 0, "a failed post uploaded blobs");
    net.fails(&buyer, &["stake", "show"], "not a registered operator");

    // No chain at the URL: the message names the endpoint and the transport's cause.
    net.assay(Some(&buyer))
        .args(["balance", "--url", "http://127.0.0.1:9"])
        .assert()
        .failure()
        .stderr(
            predicate::str::contains("cannot reach an Assay deployment at http://127.0.0.1:9")
                .and(predicate::str::contains("Connection refused"))
                .and(predicate::str::contains("AccountNotFound").not()),
        );
}

#[test]
fn provider_killed_mid_job_resumes_its_claim_after_restart_without_claiming_twice() {
    let net = Localnet::start();
    net.auditor();
    let buyer = net.user("buyer", "100");
    let provider = net.user("provider", "500");
    let dir = net.path("matmul");
    net.json(
        None,
        &["job", "new", "matmul", "--out", dir.to_str().unwrap()],
    );
    let manifest = dir.join("manifest.json");
    let posted = net.json(
        Some(&buyer),
        &[
            "job",
            "post",
            manifest.to_str().unwrap(),
            "--price",
            "10",
            "--job-id",
            "3",
        ],
    );
    let job = posted["job"].as_str().unwrap().to_string();
    net.json(Some(&provider), &["stake", "deposit", "100"]);

    // Kill -9 the worker as soon as it logs its claim (before or during the GPU run).
    let mut worker = net
        .assay(Some(&provider))
        .args(["provider", "run"])
        .env("RUST_LOG", "assay=info,assay_node=info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(worker.stderr.take().unwrap());
    for line in stderr.lines() {
        if line.unwrap().contains("claimed") {
            break;
        }
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    let state = net.json(Some(&buyer), &["job", "status", &job])["state"].clone();
    assert!(state == "Claimed" || state == "Committed", "{state}");
    eprintln!("state after kill -9: {state}");

    // Restarted, it finishes its own claim; the collateral is locked once.
    net.assay(Some(&provider))
        .args(["provider", "run", "--once"])
        .assert()
        .success();
    let status = net.json(Some(&buyer), &["job", "status", &job]);
    assert_eq!(status["state"], "Committed");
    let shown = net.json(Some(&provider), &["stake", "show"]);
    assert_eq!(
        shown["locked"], 32_000_000,
        "the collateral floor, locked once"
    );
}

/// `assay canary run` posts an ordinary job as the canary's buyer, runs it as its provider
/// with chunks planted wrong, records what it needs to challenge later, and refuses to
/// run with one key in two roles. (Catching a lazy verifier with it is tested against
/// verifier daemons in `verifier/tests/canary.rs`.)
#[test]
fn canary_run_launches_a_planted_job_and_keeps_its_secret_in_the_state_file() {
    let net = Localnet::start();
    net.auditor();
    let buyer = net.user("canary-buyer", "100");
    let provider = net.user("canary-provider", "500");
    let challenger = net.user("canary-challenger", "100");
    for (key, amount) in [(&provider, "200"), (&challenger, "50")] {
        net.json(
            Some(key),
            &["stake", "deposit", amount, "--roles", "provider"],
        );
    }
    let state = net.path("canary.json");
    let keys = |b: &Path, p: &Path, c: &Path| -> Vec<String> {
        [("--buyer", b), ("--provider", p), ("--challenger", c)]
            .iter()
            .flat_map(|(flag, path)| [flag.to_string(), path.to_str().unwrap().to_string()])
            .collect()
    };
    net.assay(None)
        .args(["canary", "run"])
        .args(keys(&buyer, &provider, &buyer))
        .assert()
        .failure()
        .stderr(predicate::str::contains("three different keys"));

    let mut args: Vec<String> = [
        "canary",
        "run",
        "--jobs",
        "1",
        "--samples",
        "8",
        "--planted",
        "4",
        "--timeout-s",
        "1",
        "--poll-ms",
        "200",
        "--state",
    ]
    .map(String::from)
    .to_vec();
    args.push(state.to_str().unwrap().to_string());
    args.extend(keys(&buyer, &provider, &challenger));
    let summary = net.json(None, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let job = summary["jobs"][0]["job"].as_str().unwrap().to_string();
    assert_eq!(summary["jobs"][0]["planted"].as_array().unwrap().len(), 4);
    assert_eq!(
        summary["jobs"][0]["outcome"],
        Value::Null,
        "nobody audited it yet"
    );
    let status = net.json(Some(&buyer), &["job", "status", &job]);
    assert_eq!(status["state"], "Committed");
    assert_eq!(status["samples"], 8);
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved[0]["job"], job.as_str());
    assert_eq!(saved[0]["committed_leaves"].as_array().unwrap().len(), 64);
    assert_eq!(saved[0]["honest_hashes"].as_array().unwrap().len(), 64);
    // A fresh key claimed it, staked with the collateral the provider key funded; the
    // provider key's own stake is untouched, and the state file keeps the fresh key until
    // its stake is home.
    let shown = net.json(Some(&provider), &["stake", "show"]);
    assert_eq!(
        shown["locked"], 0,
        "the provider key claims no canary itself"
    );
    let claimed_by = status["provider"].as_str().unwrap();
    assert_ne!(claimed_by, shown["authority"].as_str().unwrap_or_default());
    assert!(saved[0]["fresh_provider"].is_string(), "{}", saved[0]);
    let fresh = net.json(Some(&buyer), &["stake", "show", "--authority", claimed_by]);
    assert_eq!(
        fresh["locked"], 32_000_000,
        "the collateral at the floor: 3.2 × the 10-token price"
    );
}

/// `assay job run` executes a job locally as a provider would: for the job's address it
/// computes the very root the provider commits, and it checks a reference output by the
/// manifest's rule (a corrupted reference fails with the chunk named).
#[test]
fn dry_run_predicts_the_provider_commitment_and_checks_a_reference() {
    let net = Localnet::start();
    net.auditor();
    let buyer = net.user("buyer", "100");
    let provider = net.user("provider", "500");
    let manifest = new_job(&net);
    let m = manifest.to_str().unwrap();
    let posted = net.json(
        Some(&buyer),
        &[
            "job",
            "post",
            m,
            "--price",
            "10",
            "--samples",
            "8",
            "--job-id",
            "3",
        ],
    );
    let job = posted["job"].as_str().unwrap().to_string();
    let dry = net.json(
        None,
        &["job", "run", m, "--job-address", &job, "--time-chunks", "4"],
    );
    assert_eq!(dry["chunks"], 64);
    assert_eq!(dry["timed_chunks"].as_array().unwrap().len(), 4);

    net.json(
        Some(&provider),
        &["stake", "deposit", "200", "--roles", "provider"],
    );
    let committed = net.provider_once(&provider);
    assert_eq!(
        committed["committed"], dry["result_root"],
        "the dry run predicts the commitment"
    );

    let outputs = net.path("outputs.bin");
    net.json(
        Some(&buyer),
        &["job", "result", &job, "--out", outputs.to_str().unwrap()],
    );
    let checked = net.json(
        None,
        &["job", "run", m, "--reference", outputs.to_str().unwrap()],
    );
    assert_eq!(checked["reference"], outputs.to_str().unwrap(), "{checked}");

    let mut bytes = std::fs::read(&outputs).unwrap();
    bytes[5 * 4096] ^= 1;
    let corrupt = net.path("corrupt.bin");
    std::fs::write(&corrupt, bytes).unwrap();
    net.assay(None)
        .args(["job", "run", m, "--reference", corrupt.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("chunk 5 differs"))
        .stderr(predicate::str::contains("1 of 64 chunks differ"));
}

/// The files of docs/kernels.md's worked example, as the guide prints them.
fn guide_file(name: &str) -> String {
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/kernels.md"
    ))
    .unwrap();
    let marker = format!("<!-- file: {name} -->");
    let at = guide
        .find(&marker)
        .unwrap_or_else(|| panic!("the guide has no {name}"));
    let open = at + guide[at..].find("```").unwrap();
    let body = open + guide[open..].find('\n').unwrap() + 1;
    let close = body + guide[body..].find("```").unwrap();
    guide[body..close].to_string()
}

/// docs/kernels.md's worked example, from the guide's own text: an i32 convolution the
/// project has never seen is sealed, dry-run, posted, run by the provider worker, audited
/// by a verifier daemon and settled, the provider and the verifier paid.
#[test]
fn a_kernel_written_from_the_kernel_guide_is_dry_run_posted_and_settled() {
    // Mesa's device-select layer wants XDG_RUNTIME_DIR; wgpu ranks adapters itself.
    std::env::set_var("NODEVICE_SELECT", "1");
    // 150 ms slots: the 50-slot verdict window lasts 7.5 s for a daemon started only once
    // the watcher has seen the job Challenged (at 40 ms it lasted 2 s, and on a loaded CI
    // machine the job closed without the daemon's pass).
    let net = Localnet::start_with_slot_ms(150);
    let (buyer, provider, verifier) = buyer_provider_verifier(&net);

    let dir = net.path("conv");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("kernel.wgsl"), guide_file("kernel.wgsl")).unwrap();
    std::fs::write(dir.join("manifest.json"), guide_file("manifest.json")).unwrap();
    // Sealing before the input exists is a clear error that leaves the manifest as written.
    let unsealed = dir.join("manifest.json");
    net.assay(None)
        .args(["job", "seal", unsealed.to_str().unwrap()])
        .assert()
        .failure()
        .stderr(predicate::str::contains("input-0.bin"));
    assert_eq!(
        std::fs::read_to_string(&unsealed).unwrap(),
        guide_file("manifest.json")
    );
    // `head -c 16384 /dev/urandom`, made repeatable.
    let image: Vec<u8> = (0u32..16_384)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.join("input-0.bin"), image).unwrap();
    let manifest = dir.join("manifest.json");
    let m = manifest.to_str().unwrap();
    let sealed = net.json(None, &["job", "seal", m]);
    assert_eq!(sealed["chunks"], 16);
    let dry = net.json(None, &["job", "run", m, "--time-chunks", "2"]);
    assert_eq!(dry["chunks"], 16);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(wait_drawable(&net, &[&verifier]));

    let posted = net.json(
        Some(&buyer),
        &[
            "job",
            "post",
            m,
            "--price",
            "5",
            "--samples",
            "8",
            "--job-id",
            "9",
        ],
    );
    let job: assay_client::Pubkey = posted["job"].as_str().unwrap().parse().unwrap();
    net.provider_once(&provider);
    let provider_before = net.tokens(&provider);
    let verifier_before = net.tokens(&verifier);

    // The buyer watches: once the challenge is drawn, `job watch` names the verifier and
    // the chunks it must re-execute while the job is still Challenged.
    let mut watcher = net
        .assay(Some(&buyer))
        .args([
            "job",
            "watch",
            &job.to_string(),
            "--json",
            "--interval-ms",
            "100",
        ])
        .args(["--timeout", "180"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut watched =
        std::io::BufRead::lines(std::io::BufReader::new(watcher.stdout.take().unwrap()));
    let drawn = runtime.block_on(draw_challenge(&net, &verifier, &job));
    let challenged: Value = loop {
        let line = watched
            .next()
            .expect("job watch ended before the job was Challenged")
            .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["state"] == "Challenged" {
            break v;
        }
    };
    assert_eq!(challenged["verifier"], drawn.to_string(), "{challenged}");
    assert_eq!(
        challenged["sampled_chunks"].as_array().map(Vec::len),
        Some(8),
        "{challenged}"
    );

    // Audit, attest; after the pass window the daemon closes its own pass.
    let passes = runtime.block_on(settle_with_daemon(&net, &verifier, &job, 90));
    assert_eq!(passes, 1, "the daemon re-executed the sample and attested");
    // The watcher saw it close, and how it ended.
    let ended: Vec<Value> = watched
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect();
    assert!(watcher.wait().unwrap().success());
    let last = ended.last().expect("a closing line");
    assert_eq!(last["state"], "Closed", "{ended:?}");
    assert_eq!(last["final_state"], "Settled", "{ended:?}");
    // Price 5, 8 of 16 chunks sampled: the verifier earns 5 % plus the sampled half of the
    // price (0.25 + 2.5), the treasury 1 %, the provider the rest (its collateral back too).
    assert_eq!(net.tokens(&verifier), verifier_before + 2_750_000);
    assert_eq!(net.tokens(&provider), provider_before + 2_200_000);
}

/// Someone with write access to the shared store corrupts an honest provider's committed
/// outputs. The drawn verifier cannot read its sample and reports it unavailable; the
/// provider's worker recomputes, finds the committed root intact, re-publishes and
/// contests; the committee re-audits and overturns: the provider is paid and keeps its
/// collateral, and the accuser — who told the truth: it could not read the chunk — pays
/// only the miss penalty, what silence would have cost, not its bond (issue #29: before,
/// it lost the whole bond). (Before the worker defended its jobs, the dispute window ran
/// out and the honest provider was slashed.)
#[test]
fn an_honest_provider_whose_outputs_are_corrupted_in_the_store_contests_and_is_paid() {
    honest_provider_with_poisoned_shared_store(false);
}

/// The same poisoning against a provider that keeps its own mirror
/// (`provider run --mirror DIR --mirror-url URL`, the directory behind a static web
/// server): the drawn verifier reads the sample from the mirror and passes the job; no
/// dispute, no contest, the provider paid in the ordinary way.
#[test]
fn an_honest_provider_with_a_mirror_passes_though_the_shared_store_is_poisoned() {
    honest_provider_with_poisoned_shared_store(true);
}

fn honest_provider_with_poisoned_shared_store(mirrored: bool) {
    use assay_client::Chain;

    std::env::set_var("NODEVICE_SELECT", "1");
    // 150 ms slots: the 50-slot dispute window lasts 7.5 s, ample for the worker. On
    // Surfpool, which enforces the 1,232-byte packet limit: the committee's decision (a
    // majority's votes in one Ed25519 instruction, then resolve_contest) goes out as a v0
    // transaction through the relayer's lookup table.
    let net = Localnet::start_with_slot_ms(150);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cast = Cast::staked(&net, &runtime);
    let (buyer, provider, verifiers) = (&cast.buyer, &cast.provider, &cast.verifiers);
    let refs = cast.verifier_paths();
    let job = cast.post_hashmix(&net, 4);
    let mirror_dir = net.path("provider-mirror");
    let mirror = StaticBlobServer::start(&mirror_dir);
    let mut run = vec!["provider", "run", "--poll", "0.1"];
    if mirrored {
        run.extend([
            "--mirror",
            mirror_dir.to_str().unwrap(),
            "--mirror-url",
            &mirror.url,
        ]);
    }
    let _worker = Worker(
        net.assay(Some(provider))
            .args(&run)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let provider_before = net.tokens(provider);

    runtime.block_on(async {
        let mut chain = rpc(&net, buyer).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let committed = loop {
            let state = chain.job(&job).await.unwrap().unwrap();
            if state.state == assay_client::JobState::Committed {
                break state;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the worker never committed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        // Every chunk blob the provider published is overwritten in the shared store.
        let store = assay_gpu::BlobStore::local(net.path("blobs")).unwrap();
        let index =
            assay_gpu::ResultIndex::fetch(&assay_gpu::Sources::own(&store), &committed.output_uri)
                .unwrap();
        for chunk in &index.chunks {
            std::fs::write(
                net.path("blobs").join("blobs").join(hex::encode(chunk)),
                b"poisoned",
            )
            .unwrap();
        }

        let mut daemons = vec![];
        for v in &refs {
            daemons.push(verifier_daemon(&net, v).await);
        }
        let (mut faults, mut passes, mut relays) = (0, 0, 0);
        let mut contested = false;
        // The state is read after every daemon's tick: one verifier's tick can draw the
        // committee a moment after the contest lands, so a round of ticks may span it.
        'ended: loop {
            for d in &mut daemons {
                match chain.job(&job).await.unwrap() {
                    None => break 'ended,
                    Some(state) => contested |= state.state == assay_client::JobState::Contested,
                }
                let r = d.tick().await.unwrap();
                faults += r.faults;
                passes += r.passes;
                relays += r.contests_relayed;
            }
            assert!(std::time::Instant::now() < deadline, "the job did not end");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        if mirrored {
            assert_eq!(
                (faults, passes),
                (0, 1),
                "the sample was read from the mirror"
            );
            assert!(!contested);
        } else {
            assert_eq!(faults, 1, "the drawn verifier could not read its sample");
            assert!(contested, "the provider's worker contested");
            assert_eq!(relays, 1, "the committee's overturn was relayed");
        }
    });

    // Paid the price less the verifier's fee (5 % + the sampled 8/64 of the price: 1.75)
    // and the treasury's 1 %, nothing slashed, no collateral locked — and nothing more
    // after a contest: what the accuser forfeits for a chunk it truthfully could not
    // read (the miss penalty of 0.25, never its bond of 50 fees) goes to the treasury,
    // so a provider never profits from a chunk being called unavailable.
    assert_eq!(net.tokens(provider), provider_before + 8_150_000);
    // The honest accuser's stake lost the penalty, not its 87.5-token bond; no other
    // verifier lost anything.
    let lost: Vec<u64> = verifiers
        .iter()
        .map(|v| {
            200_000_000
                - net.json(Some(v), &["stake", "show"])["deposited"]
                    .as_u64()
                    .unwrap()
        })
        .collect();
    let mut expected = vec![0; verifiers.len()];
    if !mirrored {
        expected[verifiers.len() - 1] = 250_000;
    }
    let mut sorted = lost.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "stake each verifier lost: {lost:?}");
    let stake = net.json(Some(provider), &["stake", "show"]);
    assert_eq!(
        (stake["deposited"].as_u64(), stake["locked"].as_u64()),
        (Some(200_000_000), Some(0))
    );

    if mirrored {
        // The job's account is gone; anyone (here a verifier, on its own ASSAY_HOME) reads
        // its story from the chain's history: settlement, sample, verifier.
        let elsewhere = |args: &[&str]| -> Value {
            let mut cmd = net.assay(Some(&verifiers[3]));
            cmd.env("ASSAY_HOME", net.path("elsewhere"));
            json_of(cmd, args)
        };
        let v = elsewhere(&["job", "status", &job.to_string()]);
        assert_eq!(v["state"], "Closed", "{v}");
        assert_eq!(v["final_state"], "Settled", "{v}");
        assert_eq!(v["provider_paid"], "8.15", "{v}");
        assert_eq!(v["verifier_paid"], "1.75", "{v}");
        assert_eq!(v["provider_slashed"], "0", "{v}");
        assert!(v["verifier"].is_string(), "{v}");
        let sample = v["sampled_chunks"].as_array().expect("the sample");
        assert_eq!(sample.len(), 8, "{v}");
        let events: Vec<&str> = v["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["event"].as_str())
            .collect();
        for expected in [
            "JobPosted",
            "JobClaimed",
            "ResultCommitted",
            "ChallengeDrawn",
            "PassRecorded",
            "JobClosed",
        ] {
            assert!(
                events.contains(&expected),
                "{expected} missing from {events:?}"
            );
        }
        // Each event reads as the rest of the CLI: tokens and parties, no Rust debug
        // output (byte arrays, base units, operator accounts).
        for event in v["events"].as_array().unwrap() {
            let detail = event["detail"].as_str().unwrap_or_default();
            assert!(!detail.contains('[') && !detail.contains('{'), "{detail}");
            assert!(!detail.contains("operator account"), "{detail}");
        }
        let detail_of = |name: &str| {
            v["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["event"] == name)
                .unwrap()["detail"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert!(detail_of("JobPosted").contains("price 10 tokens"), "{v}");
        assert!(
            detail_of("JobClosed").contains("provider paid 8.15 tokens"),
            "{v}"
        );
        // So does its result: root and output URI from the commit_result transaction,
        // every chunk checked against the root (the poisoned one served by the mirror).
        let out = net.path("elsewhere-result.bin");
        let r = elsewhere(&[
            "job",
            "result",
            &job.to_string(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r["chunks"], v["n_chunks"], "{r} vs {v}");
        assert_eq!(r["root"], v["result_root"], "{r} vs {v}");
        assert_eq!(
            std::fs::metadata(&out).unwrap().len(),
            r["bytes"].as_u64().unwrap()
        );
        // `job watch` of a job that ended before it looked tells the same story.
        let watched = net.json(Some(&verifiers[3]), &["job", "watch", &job.to_string()]);
        assert_eq!(watched["state"], "Closed", "{watched}");
        assert_eq!(watched["final_state"], "Settled", "{watched}");
    }
}
