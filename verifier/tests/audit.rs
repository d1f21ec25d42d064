//! The verifier's audit against real providers' publications on the embedded chain.

use anchor_lang::prelude::Pubkey;
use assay_client::pda;
use assay_client::Chain;
use assay_gpu::kernels::hashmix::{self, HashMixParams};
use assay_gpu::{publish, Mirror, ResultIndex, Sources};
use assay_gpu::{BlobStore, Commitment, Gpu};
use assay_market::instructions::{FaultEvidence, PostJobArgs};
use assay_market::state::{JobState, COMPARISON_EXACT};
use assay_node::{audit, Finding};
use assay_stake::constants::{ROLE_PROVIDER, ROLE_VERIFIER};
use assay_testkit::embedded::{LocalChain, LocalSetup};

#[path = "support/static_blob_server.rs"]
mod static_blob_server;
use solana_sdk::signature::{Keypair, Signer};
use static_blob_server::StaticBlobServer;

struct Setup {
    chain: LocalChain,
    gpu: Gpu,
    store: BlobStore,
    _dir: tempfile::TempDir,
    provider: Keypair,
    verifiers: Vec<Keypair>,
    job: Pubkey,
}

/// The largest sample a 16-chunk job can pay for: every chunk but one.
const ALL_BUT_ONE: u8 = 15;

/// A posted, claimed 16-chunk hash-mixer job whose provider ran it honestly; `tamper`
/// then decides what it commits and publishes before the challenge is drawn.
async fn challenged(
    tamper: impl FnOnce(&BlobStore, &Pubkey, &mut assay_gpu::ChunkOutputs) -> Option<String>,
) -> Setup {
    challenged_with(None, tamper).await
}

/// [`challenged`], the provider also publishing into its own `mirror`.
async fn challenged_with(
    mirror: Option<&Mirror>,
    tamper: impl FnOnce(&BlobStore, &Pubkey, &mut assay_gpu::ChunkOutputs) -> Option<String>,
) -> Setup {
    std::env::set_var("NODEVICE_SELECT", "1");
    let mut chain = LocalChain::start(LocalSetup::default()).await.unwrap();
    let d = chain.deployment;
    let buyer = chain.new_user(1_000_000_000).await.unwrap();
    let mut ops = vec![];
    for roles in [ROLE_PROVIDER, ROLE_VERIFIER, ROLE_VERIFIER] {
        let k = chain.new_user(1_000_000_000).await.unwrap();
        chain
            .send(
                &[
                    d.register_operator(&k.pubkey(), roles),
                    d.deposit(&k.pubkey(), 100_000_000),
                ],
                &[&k],
            )
            .await
            .unwrap();
        ops.push(k);
    }
    chain.next_epoch().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::local(dir.path()).unwrap();
    let gpu = Gpu::new().expect("a wgpu adapter (lavapipe: ./scripts/install-deps.sh)");
    let bundle = hashmix::job(&HashMixParams {
        chunks: 16,
        elements_per_chunk: 256,
        rounds: 8,
        n_seeds: 64,
        seed: 3,
    })
    .unwrap();
    bundle.store(&store).unwrap();
    let manifest_hash = store
        .put(&bundle.manifest.canonical_bytes().unwrap())
        .unwrap();
    let args = PostJobArgs {
        job_id: 1,
        manifest_hash,
        input_root: [0; 32],
        n_chunks: 16,
        samples: ALL_BUT_ONE,
        comparison_rule: COMPARISON_EXACT,
        price: 1_000_000,
        collateral: 3_200_000,
        claim_window_slots: 100,
        execution_window_slots: 100,
        needs: 0,
    };
    chain
        .send(&[d.post_job(&buyer.pubkey(), args)], &[&buyer])
        .await
        .unwrap();
    let job = pda::job(&buyer.pubkey(), 1);
    let provider = ops.remove(0);
    chain
        .send(&[d.claim_job(&provider.pubkey(), &job)], &[&provider])
        .await
        .unwrap();
    let mut outputs = gpu.prepare(&bundle).unwrap().run_all().unwrap();
    let custom_uri = tamper(&store, &job, &mut outputs);
    let commitment = Commitment::build(&job.to_bytes(), &bundle.manifest, &outputs).unwrap();
    let published = publish(&store, mirror, &job.to_bytes(), &outputs, &commitment).unwrap();
    let uri = custom_uri.unwrap_or(published);
    chain
        .send(
            &[d.commit_result(&provider.pubkey(), &job, commitment.root(), uri)],
            &[&provider],
        )
        .await
        .unwrap();
    chain.crank_draw(&job).await.unwrap();
    Setup {
        chain,
        gpu,
        store,
        _dir: dir,
        provider,
        verifiers: ops,
        job,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn honest_provider_passes_the_audit_and_is_paid() {
    let mut s = challenged(|_, _, _| None).await;
    let job = s.chain.job(&s.job).await.unwrap().unwrap();
    let result = audit(&s.gpu, &s.store, &s.job, &job).unwrap();
    assert_eq!(result.finding, Finding::Pass);
    assert_eq!(result.sample.len(), usize::from(ALL_BUT_ONE));
    let v = s
        .verifiers
        .iter()
        .find(|k| Some(k.pubkey()) == job.verifier)
        .unwrap()
        .insecure_clone();
    let ix = s.chain.deployment.attest_pass(&v.pubkey(), &s.job, &job);
    s.chain.send(&[ix.unwrap()], &[&v]).await.unwrap();
    let passed = s.chain.job(&s.job).await.unwrap().unwrap();
    assert_eq!(passed.state, assay_market::state::JobState::Passed);
    let paid = 1_000_000 - job.verifier_fee - job.protocol_fee;
    assert_eq!(
        s.chain.balance_of(&s.provider.pubkey()).await.unwrap(),
        1_000_000_000 - 100_000_000 + paid
    );
}

#[tokio::test(flavor = "current_thread")]
async fn provider_faking_chunks_is_reported_with_a_proof_the_chain_accepts() {
    // Two faked chunks: every sample of all chunks but one holds one.
    let mut s = challenged(|_, _, outputs| {
        for chunk in [5, 6] {
            outputs.chunk_mut(chunk).unwrap()[0] ^= 0xff;
        }
        None
    })
    .await;
    let job = s.chain.job(&s.job).await.unwrap().unwrap();
    let Finding::Fault {
        index, evidence, ..
    } = audit(&s.gpu, &s.store, &s.job, &job).unwrap().finding
    else {
        panic!("a faked chunk is in every sample of 15");
    };
    assert!([5, 6].contains(&index), "{index}");
    assert!(matches!(evidence, FaultEvidence::Mismatch { .. }));
    let v = s
        .verifiers
        .iter()
        .find(|k| Some(k.pubkey()) == job.verifier)
        .unwrap()
        .insecure_clone();
    let ix = s
        .chain
        .deployment
        .report_fault(&v.pubkey(), &s.job, index, evidence);
    s.chain.send(&[ix], &[&v]).await.unwrap();
    assert_eq!(
        s.chain.job(&s.job).await.unwrap().unwrap().state,
        JobState::Disputed
    );
}

#[tokio::test(flavor = "current_thread")]
async fn provider_withholding_its_outputs_is_reported_unavailable() {
    let mut s = challenged(|_, _, _| Some(format!("sha256:{}", "ab".repeat(32)))).await;
    let job = s.chain.job(&s.job).await.unwrap().unwrap();
    let finding = audit(&s.gpu, &s.store, &s.job, &job).unwrap().finding;
    let Finding::Fault {
        index,
        evidence,
        reason,
    } = finding
    else {
        panic!("nothing was served")
    };
    assert_eq!(evidence, FaultEvidence::Unavailable);
    assert!(reason.contains("result index"), "{reason}");
    let v = s
        .verifiers
        .iter()
        .find(|k| Some(k.pubkey()) == job.verifier)
        .unwrap()
        .insecure_clone();
    let ix = s
        .chain
        .deployment
        .report_fault(&v.pubkey(), &s.job, index, evidence);
    s.chain.send(&[ix], &[&v]).await.unwrap();
    assert_eq!(
        s.chain.job(&s.job).await.unwrap().unwrap().state,
        JobState::Disputed
    );
}

#[tokio::test(flavor = "current_thread")]
async fn corrupted_chunk_blob_counts_as_not_served() {
    let mut s = challenged(|_, _, _| None).await;
    let job = s.chain.job(&s.job).await.unwrap().unwrap();
    // Corrupt every stored chunk blob on disk (the store verifies hashes on read).
    let index = ResultIndex::fetch(&Sources::own(&s.store), &job.output_uri).unwrap();
    for hash in &index.chunks {
        let path = s._dir.path().join("blobs").join(hex_of(hash));
        std::fs::write(path, b"not the output").unwrap();
    }
    let Finding::Fault {
        evidence, reason, ..
    } = audit(&s.gpu, &s.store, &s.job, &job).unwrap().finding
    else {
        panic!("corrupt blobs cannot pass");
    };
    assert_eq!(evidence, FaultEvidence::Unavailable);
    assert!(reason.contains("not served"), "{reason}");
}

/// What the provider's mirror does when the verifier turns to it.
#[derive(Clone, Copy, Debug)]
enum MirrorBehaviour {
    /// Serves its copy of every blob.
    Serves,
    /// Serves other bytes under every key (a mirror cannot substitute data either).
    ServesGarbage,
    /// Nothing listens at its URL any more.
    Down,
}

/// Issue #14 item 7: a blob missing or corrupt in the verifier's store is read from the
/// provider's own mirror (named in `output_uri`) before the verifier calls it
/// unavailable. Before, the first case reported the honest provider's chunk unavailable.
#[tokio::test(flavor = "current_thread")]
async fn a_blob_corrupt_in_the_shared_store_is_read_from_the_providers_mirror() {
    use MirrorBehaviour::*;
    for behaviour in [Serves, ServesGarbage, Down] {
        let mirror_dir = tempfile::tempdir().unwrap();
        let server = StaticBlobServer::start(mirror_dir.path());
        let mirror = Mirror::new(
            BlobStore::local(mirror_dir.path()).unwrap(),
            format!("{}/", server.url),
        )
        .unwrap();
        let mut s = challenged_with(Some(&mirror), |_, _, _| None).await;
        let job = s.chain.job(&s.job).await.unwrap().unwrap();
        assert!(
            job.output_uri.ends_with(&format!("@{}", mirror.url)),
            "{}",
            job.output_uri
        );
        let index = ResultIndex::fetch(&Sources::own(&s.store), &job.output_uri).unwrap();
        let (index_hash, _) = ResultIndex::locate(&job.output_uri).unwrap();
        for hash in index.chunks.iter().chain([&index_hash]) {
            let path = s._dir.path().join("blobs").join(hex_of(hash));
            std::fs::write(path, b"corrupted in the shared store").unwrap();
            if matches!(behaviour, ServesGarbage) {
                let path = mirror_dir.path().join("blobs").join(hex_of(hash));
                std::fs::write(path, b"the mirror's substitute").unwrap();
            }
        }
        if matches!(behaviour, Down) {
            drop(server);
        }
        let finding = audit(&s.gpu, &s.store, &s.job, &job).unwrap().finding;
        match (behaviour, finding) {
            (Serves, Finding::Pass) => {}
            (
                ServesGarbage | Down,
                Finding::Fault {
                    evidence, reason, ..
                },
            ) => {
                assert_eq!(evidence, FaultEvidence::Unavailable, "{behaviour:?}");
                assert!(
                    reason.contains("own store") && reason.contains(&mirror.url),
                    "{behaviour:?}: {reason}"
                );
            }
            (behaviour, finding) => panic!("{behaviour:?}: {finding:?}"),
        }
    }
}

/// The verifier's own store failing in transport (a server down mid-job) is the
/// verifier's problem: the audit is an error the daemon retries with backoff, never
/// "data unavailable" against a provider who published everything.
#[tokio::test(flavor = "current_thread")]
async fn the_verifiers_own_store_down_is_retried_never_reported_as_unavailable() {
    let mut s = challenged(|_, _, _| None).await;
    let job = s.chain.job(&s.job).await.unwrap().unwrap();
    let down = BlobStore::open_mirror("http://127.0.0.1:9/").unwrap();
    let result = assay_node::audit_with(
        &down,
        &s.job,
        &job,
        |hash| assay_node::audit::load_bundle(&s.store, hash).map(std::sync::Arc::new),
        |bundle| s.gpu.prepare(bundle).map(Box::new),
    );
    match result {
        Err(assay_node::AuditError::StoreDown(reason)) => {
            assert!(reason.contains("unreachable"), "{reason}")
        }
        other => panic!("expected StoreDown, got {other:?}"),
    }
}

#[test]
fn mirrors_that_cannot_be_named_on_chain_or_read_safely_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = || BlobStore::local(dir.path()).unwrap();
    for url in [
        "file:///etc/".to_string(),
        "/var/lib/assay".to_string(),
        "s3://bucket/prefix".to_string(),
        "https://user@host/path".to_string(),
        format!("https://host/{}", "a".repeat(130)),
    ] {
        let refused = Mirror::new(store(), url.clone());
        assert!(refused.is_err(), "{url}");
    }
    // A mirror in an output_uri read from chain is opened the same way.
    let uri = format!("sha256:{}@file:///etc", "ab".repeat(32));
    let own = store();
    let err = Sources::for_output(&own, &uri).get(&[1; 32]).unwrap_err();
    assert!(err.to_string().contains("http"), "{err}");
}

fn hex_of(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}
