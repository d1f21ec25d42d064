//! A passed job's output must stay obtainable through its pass window (issue #29): a
//! chunk lost after the pass — one no verifier sampled — is found by the buyer's
//! `assay job result`, which names the remedy, and called unavailable with
//! `assay job challenge`; committee daemons look for it in the second half of their vote
//! window. A provider whose worker keeps running serves the chunk again (the challenger
//! pays the miss penalty and the buyer gets its output); one that stopped after the pass
//! loses its collateral, most of it to the buyer, and the verifier keeps its fee and bond.
//! Before, the job settled and the chunk was lost for good.

use std::process::Stdio;

use assert_cmd::prelude::*;
use predicates::prelude::*;

mod support;
use support::*;

#[test]
fn a_chunk_lost_after_the_pass_is_served_again_by_a_running_worker() {
    chunk_lost_after_the_pass(true);
}

#[test]
fn a_chunk_lost_after_the_pass_by_a_stopped_provider_is_paid_for_by_its_collateral() {
    chunk_lost_after_the_pass(false);
}

fn chunk_lost_after_the_pass(worker_keeps_running: bool) {
    use assay_client::{Chain, JobState};

    std::env::set_var("NODEVICE_SELECT", "1");
    // 300 ms slots: the 50-slot pass window lasts 15 s, time for the buyer's two commands.
    let net = Localnet::start_with_slot_ms(300);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let cast = Cast::staked(&net, &runtime);
    // The buyer stakes a little of its own: calling a chunk unavailable locks a bond.
    net.json(
        Some(&cast.buyer),
        &["stake", "deposit", "5", "--roles", "provider"],
    );
    let (buyer, provider, verifiers) = (&cast.buyer, &cast.provider, &cast.verifiers);
    let refs = cast.verifier_paths();
    let job = cast.post_hashmix(&net, 5);
    let mut worker = Some(Worker(
        net.assay(Some(provider))
            .args(["provider", "run", "--poll", "0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));

    // Scene 1: the job runs and passes its audit. Fishermen are off: the buyer looks.
    let options = assay_node::DaemonOptions {
        fisherman_rate: 0.0,
        ..assay_node::DaemonOptions::default()
    };
    let (passed, mut daemons) = runtime.block_on(async {
        let mut daemons = vec![];
        for v in &refs {
            daemons.push(verifier_daemon_with(&net, v, options.clone()).await);
        }
        let mut chain = rpc(&net, buyer).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        loop {
            for d in &mut daemons {
                d.tick().await.unwrap();
            }
            let state = chain.job(&job).await.unwrap().expect("the job is live");
            if state.state == JobState::Passed {
                break (state, daemons);
            }
            assert!(std::time::Instant::now() < deadline, "the job never passed");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    if !worker_keeps_running {
        worker = None; // the provider stops after its pass, as with `provider run --once`
    }

    // Scene 2: a chunk nobody sampled is lost from the store.
    let sample = assay_protocol::sample_indices(&passed.seed, passed.n_chunks, 8);
    let lost = (0..passed.n_chunks).find(|i| !sample.contains(i)).unwrap();
    let store = assay_gpu::BlobStore::local(net.path("blobs")).unwrap();
    let index = assay_gpu::ResultIndex::fetch(&assay_gpu::Sources::own(&store), &passed.output_uri)
        .unwrap();
    std::fs::write(
        net.path("blobs")
            .join("blobs")
            .join(hex::encode(index.chunks[lost as usize])),
        b"lost",
    )
    .unwrap();

    // Scene 3: the buyer's download fails and says what to do; the buyer does it.
    let out = net.path("result.bin");
    net.assay(Some(buyer))
        .args(["job", "result", &job.to_string(), "--out"])
        .arg(&out)
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!("chunk {lost}")))
        .stderr(predicate::str::contains("assay job challenge"));
    let buyer_tokens = net.tokens(buyer);
    let provider_tokens = net.tokens(provider);
    let challenged = net.json(Some(buyer), &["job", "challenge", &job.to_string()]);
    assert_eq!(challenged["unavailable"], lost, "{challenged}");

    // Scene 4: the committee is drawn and looks for the chunk in the second half of its
    // vote window; the decision is relayed.
    let ended = runtime.block_on(async {
        let mut chain = rpc(&net, buyer).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        let mut seen_challenge = false;
        loop {
            for d in &mut daemons {
                d.tick().await.unwrap();
            }
            match chain.job(&job).await.unwrap() {
                None => break None,
                Some(state) if state.state == JobState::PassChallenged => seen_challenge = true,
                Some(state) if state.state == JobState::Passed && seen_challenge => {
                    break Some(state)
                }
                Some(_) => {}
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the challenge was never decided"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    });
    // How the committee decided (not a void for want of votes), from the job's history.
    let decided: Vec<bool> = runtime.block_on(async {
        let chain = rpc(&net, buyer).await;
        chain
            .history(&job, 1000)
            .await
            .unwrap()
            .iter()
            .filter(|e| !e.failed)
            .flat_map(|e| e.events.iter())
            .filter_map(|e| match e {
                assay_client::events::AssayEvent::ContestResolved(r) => Some(r.upheld),
                _ => None,
            })
            .collect()
    });
    assert_eq!(
        decided,
        vec![!worker_keeps_running],
        "the committee decided"
    );
    let buyer_stake = net.json(Some(buyer), &["stake", "show"]);
    let verifier_deposits: Vec<u64> = verifiers
        .iter()
        .map(|v| {
            net.json(Some(v), &["stake", "show"])["deposited"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(
        verifier_deposits,
        vec![200_000_000; 4],
        "no verifier lost stake"
    );
    if worker_keeps_running {
        // Served again by the worker: overturned, the window runs on. The challenger pays
        // the miss penalty (0.25 of its 1-token bond) to the treasury, the provider gains
        // nothing, and the buyer now has every chunk.
        assert!(ended.is_some(), "overturned: the pass stands");
        assert_eq!(
            buyer_stake["deposited"],
            5_000_000 - 250_000,
            "{buyer_stake}"
        );
        assert_eq!(net.tokens(provider), provider_tokens);
        let got = net.json(
            Some(buyer),
            &[
                "job",
                "result",
                &job.to_string(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(got["chunks"], passed.n_chunks, "{got}");
    } else {
        // Nobody could obtain it: upheld. The collateral is slashed: the buyer gets the
        // finder's 20 % (it called it) and the victim's 70 %; the treasury 10 %.
        assert!(ended.is_none(), "upheld: the job closed");
        assert_eq!(buyer_stake["deposited"], 5_000_000, "{buyer_stake}");
        assert_eq!(buyer_stake["locked"], 0, "{buyer_stake}");
        assert_eq!(
            net.tokens(buyer),
            buyer_tokens + passed.collateral * 9 / 10,
            "the collateral compensates the buyer"
        );
        let status = net.json(Some(buyer), &["job", "status", &job.to_string()]);
        assert_eq!(status["final_state"], "Slashed", "{status}");
        assert_eq!(status["verifier_slashed"], "0", "{status}");
    }
    drop(worker);
}
