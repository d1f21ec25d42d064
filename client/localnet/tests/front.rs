//! `assay localnet`'s JSON-RPC front corrects, before Surfpool, what web3.js users hit
//! (docs/client.md): a batch is answered call by call, and `getBlock` without an
//! encoding answers in a validator's default `json` shape. Against Surfpool directly both
//! fail (`surfpool_itself_refuses_batches_and_answers_get_block_in_the_parsed_shape`, which keeps the reason for the front checked).

use assay_localnet::{Surfnet, SurfnetOptions};
use serde_json::{json, Value};

async fn surfpool() -> Surfnet {
    Surfnet::start(SurfnetOptions::on_free_ports())
        .await
        .expect("surfpool starts (SBF programs: ./scripts/sbf/build.sh)")
}

async fn post(url: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("the endpoint answers")
        .json()
        .await
        .expect("a JSON answer")
}

fn call(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// `getBlock` of `slot` (no encoding named) from `url`, once the block exists: a slot's
/// block is answered only after the slot completes, and a deployment can end within the
/// slot that created the mint.
async fn block_of(url: &str, id: u64, slot: &Value) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let block = post(
            url,
            call(
                id,
                "getBlock",
                json!([slot, {"maxSupportedTransactionVersion": 0}]),
            ),
        )
        .await;
        if !block["result"].is_null() || std::time::Instant::now() > deadline {
            return block;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_answered_call_by_call_and_get_block_defaults_to_json() {
    let net = surfpool().await;
    let mint = net.deployment.mint.to_string();
    let batch = json!([
        call(1, "getSlot", json!([])),
        call(2, "getAccountInfo", json!([mint, {"encoding": "base64"}])),
        call(3, "getSignaturesForAddress", json!([mint])),
    ]);
    let answers = post(&net.rpc_url, batch).await;
    let answers = answers.as_array().expect("an array of answers");
    assert_eq!(answers.len(), 3, "{answers:?}");
    for (answer, id) in answers.iter().zip(1..) {
        assert_eq!(answer["id"], id, "{answer}");
        assert!(answer.get("result").is_some(), "{answer}");
    }
    // The block that created the mint, asked for without an encoding: account keys are
    // strings, as a validator answers (web3.js `getBlock` parses them).
    let signatures = answers[2]["result"].as_array().expect("signatures");
    let slot = signatures.last().expect("the mint's creation")["slot"].clone();
    let block = block_of(&net.rpc_url, 4, &slot).await;
    let keys = &block["result"]["transactions"][0]["transaction"]["message"]["accountKeys"];
    assert!(keys[0].is_string(), "{block}");
}

/// Why the front exists, kept checked: Surfpool itself refuses a batch and answers
/// `getBlock` without an encoding with account keys as objects. When a Surfpool release
/// behaves like a validator, this fails and the front's correction can go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn surfpool_itself_refuses_batches_and_answers_get_block_in_the_parsed_shape() {
    let net = surfpool().await;
    let answer = post(&net.surfpool_url, json!([call(1, "getSlot", json!([]))])).await;
    assert!(answer.to_string().contains("-32600"), "{answer}");
    let mint = net.deployment.mint.to_string();
    let signatures = post(
        &net.surfpool_url,
        call(2, "getSignaturesForAddress", json!([mint])),
    )
    .await;
    let slot = signatures["result"]
        .as_array()
        .expect("signatures")
        .last()
        .expect("the mint's creation")["slot"]
        .clone();
    let block = block_of(&net.surfpool_url, 3, &slot).await;
    let keys = &block["result"]["transactions"][0]["transaction"]["message"]["accountKeys"];
    assert!(keys[0].is_object(), "{block}");
}
