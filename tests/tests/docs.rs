//! `docs/protocol.md` states the account sizes of the code.

fn documented_size(doc: &str, account: &str) -> usize {
    let row = doc
        .lines()
        .find(|l| l.starts_with(&format!("| {account} |")))
        .unwrap_or_else(|| panic!("docs/protocol.md has no row for {account}"));
    row.trim_end_matches('|')
        .rsplit('|')
        .next()
        .unwrap()
        .trim()
        .parse()
        .expect("size is a number")
}

#[test]
fn protocol_doc_states_the_real_account_sizes() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .unwrap();
    assert_eq!(
        documented_size(&doc, "StakeConfig"),
        assay_stake::state::StakeConfig::SIZE
    );
    assert_eq!(
        documented_size(&doc, "VerifierRegistry"),
        assay_stake::state::VerifierRegistry::SIZE
    );
    assert_eq!(
        documented_size(&doc, "Operator"),
        assay_stake::state::Operator::SIZE
    );
    assert_eq!(
        documented_size(&doc, "MarketConfig"),
        assay_market::state::MarketConfig::SIZE
    );
    assert_eq!(documented_size(&doc, "Job"), assay_market::state::Job::SIZE);
}
