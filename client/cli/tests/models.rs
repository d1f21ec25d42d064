//! Audited inference end to end (issue #31): the digits MLP and CNN (models/digits) compiled by
//! `assay model compile`, posted on `assay localnet`, run by the provider worker, its
//! sample re-executed by a verifier daemon and settled; the buyer reads the outputs back
//! with `assay model read`: ONNX Runtime's CPU outputs match under the job's derived bound,
//! and the accuracy is printed.

use std::path::Path;

mod support;
use support::*;

fn digits(name: &str) -> String {
    format!("{}/../../models/digits/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Compiles `model` over the test images, posts it as job `job_id`, has the provider run
/// it and a verifier daemon audit it until it settles, then reads it back: returns
/// `assay model read`'s report.
fn post_audit_and_read(
    net: &Localnet,
    cast: (&Path, &Path, &Path),
    runtime: &tokio::runtime::Runtime,
    model: &str,
    job_id: u64,
) -> serde_json::Value {
    let (buyer, provider, verifier) = cast;
    let dir = net.path(&format!("{model}-job"));
    let compiled = net.json(
        None,
        &[
            "model",
            "compile",
            &digits(&format!("{model}.onnx")),
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
    // A dispatch per layer (the default): the provider's worker and the verifier's daemon
    // run a multi-stage chunk (a version 3 manifest) end to end.
    assert!(
        compiled["dispatches_per_chunk"].as_u64() > Some(1),
        "{compiled}"
    );
    let manifest = dir.join("manifest.json");
    let id = job_id.to_string();
    let posted = net.json(
        Some(buyer),
        &[
            "job",
            "post",
            manifest.to_str().unwrap(),
            "--price",
            "5",
            "--samples",
            "4",
            "--job-id",
            &id,
        ],
    );
    let job: assay_client::Pubkey = posted["job"].as_str().unwrap().parse().unwrap();
    net.provider_once(provider);
    let passes = runtime.block_on(async {
        draw_challenge(net, verifier, &job).await;
        settle_with_daemon(net, verifier, &job, 120).await
    });
    assert_eq!(
        passes, 1,
        "{model}: the daemon re-executed the sampled chunks and attested"
    );
    let outputs = net.path(&format!("{model}-outputs.bin"));
    net.json(
        Some(buyer),
        &[
            "job",
            "result",
            &job.to_string(),
            "--out",
            outputs.to_str().unwrap(),
        ],
    );
    let logits = net.path(&format!("{model}-logits.npy"));
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
            &digits(&format!("{model}_ort_logits.npy")),
        ],
    );
    assert!(logits.exists());
    read
}

#[test]
fn the_digits_models_are_compiled_posted_audited_settled_and_read_back() {
    std::env::set_var("NODEVICE_SELECT", "1");
    // 150 ms slots, as the kernel guide's flow: the verdict window outlasts a loaded CI box.
    let net = Localnet::start_with_slot_ms(150);
    let (buyer, provider, verifier) = buyer_provider_verifier(&net);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(wait_drawable(&net, &[&verifier]));

    // ONNX Runtime's own accuracy on these 360 images (models/digits/train.py prints it).
    for (model, job_id, onnx_runtime_correct) in [("mlp", 31, 329), ("cnn", 32, 334)] {
        let read = post_audit_and_read(
            &net,
            (&buyer, &provider, &verifier),
            &runtime,
            model,
            job_id,
        );
        assert_eq!(read["items"], 360, "{read}");
        let usage = read["reference_bound_usage"].as_f64().unwrap();
        assert!(
            usage <= 1.0,
            "{model}: onnxruntime's logits within the bound: {read}"
        );
        let correct = read["accuracy"][0].as_u64().unwrap();
        assert_eq!(read["accuracy"][1], 360, "{read}");
        assert_eq!(correct, onnx_runtime_correct, "{model}: {read}");
        println!(
            "digits {model} on localnet: settled, accuracy {correct}/360, onnxruntime within {:.2} % of the bound",
            100.0 * usage
        );
    }
}
