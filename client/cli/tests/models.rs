//! Audited inference end to end (issue #31): the digits MLP (models/digits) compiled by
//! `assay model compile`, posted on `assay localnet`, run by the provider worker, its
//! sample re-executed by a verifier daemon and settled; the buyer reads the outputs back
//! with `assay model read`: ONNX Runtime's CPU outputs match under the job's derived bound,
//! and the accuracy is printed.

mod support;
use support::*;

fn digits(name: &str) -> String {
    format!("{}/../../models/digits/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_digits_model_is_compiled_posted_audited_settled_and_read_back() {
    use assay_client::Chain;
    std::env::set_var("NODEVICE_SELECT", "1");
    // 150 ms slots, as the kernel guide's flow: the verdict window outlasts a loaded CI box.
    let net = Localnet::start_with_slot_ms(150);
    let buyer = net.user("buyer", "100");
    let provider = net.user("provider", "500");
    let verifier = net.user("verifier", "300");
    net.json(
        Some(&provider),
        &["stake", "deposit", "200", "--roles", "provider"],
    );
    net.json(
        Some(&verifier),
        &["stake", "deposit", "200", "--roles", "verifier"],
    );

    let dir = net.path("digits-job");
    let compiled = net.json(
        None,
        &[
            "model",
            "compile",
            &digits("mlp.onnx"),
            "--inputs",
            &digits("test_x.npy"),
            "--batch-per-chunk",
            "32",
            "--out",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(compiled["chunks"], 12, "{compiled}");
    assert_eq!(compiled["items"], 360, "{compiled}");
    let manifest = dir.join("manifest.json");
    let m = manifest.to_str().unwrap();

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
            "4",
            "--job-id",
            "31",
        ],
    );
    let job: assay_client::Pubkey = posted["job"].as_str().unwrap().parse().unwrap();
    net.provider_once(&provider);
    runtime.block_on(async {
        draw_challenge(&net, &verifier, &job).await;
        let mut daemon = verifier_daemon(&net, &verifier).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        let mut passes = 0;
        loop {
            passes += daemon.tick().await.unwrap().passes;
            if daemon.chain_mut().job(&job).await.unwrap().is_none() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the job did not settle"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(
            passes, 1,
            "the daemon re-executed the sampled chunks and attested"
        );
    });

    let outputs = net.path("digits-outputs.bin");
    net.json(
        Some(&buyer),
        &[
            "job",
            "result",
            &job.to_string(),
            "--out",
            outputs.to_str().unwrap(),
        ],
    );
    let logits = net.path("digits-logits.npy");
    let read = net.json(
        None,
        &[
            "model",
            "read",
            dir.to_str().unwrap(),
            "--outputs",
            outputs.to_str().unwrap(),
            "--out",
            logits.to_str().unwrap(),
            "--labels",
            &digits("test_y.npy"),
            "--reference",
            &digits("mlp_ort_logits.npy"),
        ],
    );
    assert_eq!(read["items"], 360, "{read}");
    let usage = read["reference_bound_usage"].as_f64().unwrap();
    assert!(
        usage <= 1.0,
        "onnxruntime's logits within the bound: {read}"
    );
    let (correct, total) = (
        read["accuracy"][0].as_u64().unwrap(),
        read["accuracy"][1].as_u64().unwrap(),
    );
    assert_eq!(total, 360);
    // ONNX Runtime's own accuracy on these 360 images (models/digits/train.py prints it).
    assert_eq!(correct, 329, "{read}");
    println!("digits mlp on localnet: settled, accuracy {correct}/{total}, onnxruntime within {:.2} % of the bound", 100.0 * usage);
    assert!(logits.exists());
}
