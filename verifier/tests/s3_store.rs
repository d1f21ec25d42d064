//! The S3 backend against a real S3-compatible server: moto's (from PyPI, installed by
//! `scripts/install-deps.sh` into `~/.cache/assay-moto`; `ASSAY_MOTO_SERVER` names
//! another `moto_server`). Each test starts its own server on a free port.

#[path = "support/moto.rs"]
mod moto;

use std::sync::Arc;

use moto::Moto;

use anchor_lang::prelude::Pubkey;
use assay_gpu::{BlobError, Digest};
use assay_node::votes::{VoteBoard, VoteRecord};

#[test]
fn blobs_and_votes_round_trip_through_an_s3_server() {
    let moto = Moto::start();
    moto.create_bucket("assay");
    let store = Arc::new(moto.store("assay"));
    let hash = store.put(b"chunk output").unwrap();
    assert_eq!(store.get(&hash).unwrap(), b"chunk output");
    assert!(store.contains(&hash).unwrap());
    assert!(matches!(store.get(&[7; 32]), Err(BlobError::NotFound(_))));
    // Someone with write access replaces the blob: the read refuses it.
    store
        .put_record(&["blobs", &Digest(hash).to_hex()], b"substituted")
        .unwrap();
    assert!(matches!(
        store.get(&hash),
        Err(BlobError::HashMismatch { .. })
    ));
    // Committee votes: published and listed by name, nothing shared but the bucket.
    let board = VoteBoard::new(store.clone());
    let job = Pubkey::new_unique();
    let mut state = zeroed_job();
    state.instance = 42;
    state.contests = 1;
    let keys: Vec<_> = (1..=3u8)
        .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]))
        .collect();
    let records: Vec<VoteRecord> = keys
        .iter()
        .map(|k| VoteRecord::sign(k, &job, &state, true))
        .collect();
    for record in &records {
        board.publish(record).unwrap();
    }
    let mut expected = records.clone();
    expected.sort_by_key(|r| r.member);
    assert_eq!(board.records(&job, 42, 1).unwrap(), expected);
    assert!(board.records(&job, 42, 2).unwrap().is_empty());
}

#[test]
fn a_missing_bucket_is_a_clear_error_not_a_missing_blob() {
    let moto = Moto::start();
    let store = moto.store("never-created");
    let err = store.put(b"x").unwrap_err().to_string();
    assert!(
        err.contains("NoSuchBucket") || err.contains("bucket"),
        "{err}"
    );
}

#[test]
fn wrong_credentials_are_a_clear_error() {
    // Every request's signature checked against the keys moto knows (none are "assay").
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let store = moto.store("assay");
    let err = store.put(b"x").unwrap_err().to_string();
    assert!(err.contains("InvalidAccessKeyId"), "{err}");
    let err = store.get(&[7; 32]).unwrap_err();
    assert!(matches!(err, BlobError::Io(_)), "not a missing blob: {err}");
}

#[test]
fn a_server_gone_mid_job_is_an_io_error_not_a_missing_blob() {
    let mut moto = Moto::start();
    moto.create_bucket("assay");
    let store = moto.store("assay");
    let hash = store.put(b"published before the outage").unwrap();
    let _ = moto.child.kill();
    let _ = moto.child.wait();
    // An I/O error (after the bounded retries), never "not found": a reader must not
    // take an outage for a provider that withheld its outputs.
    let err = store.get(&hash).unwrap_err();
    assert!(matches!(err, BlobError::Io(_)), "{err}");
}

fn zeroed_job() -> assay_market::state::Job {
    use anchor_lang::{AccountDeserialize, Discriminator};
    let mut data = assay_market::state::Job::DISCRIMINATOR.to_vec();
    data.resize(assay_market::state::Job::SIZE, 0);
    assay_market::state::Job::try_deserialize(&mut data.as_slice()).unwrap()
}
