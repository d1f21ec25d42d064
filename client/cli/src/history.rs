//! A job's events as the rest of the CLI speaks: amounts in tokens, parties by role and
//! key (an operator account shown as its authority), roots and seeds in hex, slots as
//! slots. `job status` and `job watch` print a closed job's story with it.

use std::collections::BTreeMap;

use assay_client::events::AssayEvent;
use assay_client::Pubkey;
use assay_market::events::UnauditedReason;

use crate::common::format_amount;

/// Who the keys in a job's story are: each party's authority by role, and each operator
/// account (what the stake program's events name) mapped to its authority.
#[derive(Default)]
pub struct Parties {
    roles: BTreeMap<Pubkey, &'static str>,
    operators: BTreeMap<Pubkey, Pubkey>,
}

impl Parties {
    /// Learns the parties `events` name (buyer, provider, verifiers, challengers, committee).
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a AssayEvent>) -> Self {
        let mut parties = Self::default();
        for event in events {
            use AssayEvent as E;
            match event {
                E::JobPosted(e) => parties.add(e.buyer, "buyer"),
                E::JobClaimed(e) => parties.add(e.provider, "provider"),
                E::ChallengeDrawn(e) => e
                    .verifier
                    .into_iter()
                    .for_each(|v| parties.add(v, "verifier")),
                E::PassChallenged(e) => parties.add(e.challenger, "challenger"),
                E::CommitteeDrawn(e) => e
                    .committee
                    .iter()
                    .for_each(|m| parties.add(*m, "committee member")),
                _ => {}
            }
        }
        parties
    }

    fn add(&mut self, authority: Pubkey, role: &'static str) {
        self.roles.entry(authority).or_insert(role);
        self.operators
            .insert(assay_client::pda::operator(&authority), authority);
    }

    /// `role key` for a known party, else the key.
    fn key(&self, key: &Pubkey) -> String {
        match self.roles.get(key) {
            Some(role) => format!("{role} {key}"),
            None => key.to_string(),
        }
    }

    /// An operator account shown as its authority (`role key`), else `operator account X`.
    fn operator(&self, operator: &Pubkey) -> String {
        match self.operators.get(operator) {
            Some(authority) => self.key(authority),
            None => format!("operator account {operator}"),
        }
    }
}

/// The event's name (`JobPosted`, …).
pub fn name(event: &AssayEvent) -> String {
    let debug = format!("{event:?}");
    debug.split('(').next().unwrap_or_default().to_string()
}

/// One line saying what `event` did, for people.
pub fn describe(event: &AssayEvent, parties: &Parties, dec: u8) -> String {
    describe_job_event(event, parties, dec)
        .unwrap_or_else(|| describe_account_event(event, parties, dec))
}

/// [`describe`] for the events of a job's life; `None` for the others.
fn describe_job_event(event: &AssayEvent, parties: &Parties, dec: u8) -> Option<String> {
    use AssayEvent as E;
    let tokens = |amount: u64| format!("{} tokens", format_amount(amount, dec));
    let short = |bytes: &[u8; 32]| hex::encode(bytes);
    Some(match event {
        E::JobStateChanged(e) => match e.from {
            Some(from) => format!("{from:?} → {:?}", e.to),
            None => format!("→ {:?}", e.to),
        },
        E::JobPosted(e) => format!(
            "job {} posted by {}: price {}, collateral {}, {} chunks, {} sampled, manifest {}",
            e.job_id,
            parties.key(&e.buyer),
            tokens(e.price),
            tokens(e.collateral),
            e.n_chunks,
            e.samples,
            short(&e.manifest_hash)
        ),
        E::JobClaimed(e) => format!(
            "claimed by {}; commit due by slot {}",
            parties.key(&e.provider),
            e.commit_deadline_slot
        ),
        E::ResultCommitted(e) => format!(
            "{} committed result root {}; the draw's seed slot is {}",
            parties.key(&e.provider),
            short(&e.result_root),
            e.seed_slot
        ),
        E::ChallengeDrawn(e) => match e.verifier {
            Some(v) => format!(
                "round {}: {} drawn, verdict due by slot {}",
                e.round,
                parties.key(&v),
                e.deadline_slot
            ),
            None => format!("round {}: no verifier could be drawn", e.round),
        },
        E::FaultReported(e) => format!(
            "{} reported chunk {} {}",
            parties.key(&e.verifier),
            e.chunk_index,
            if e.data_unavailable { "unavailable" } else { "wrong" }
        ),
        E::VerifierMissedWindow(e) => format!(
            "{} missed round {}'s window: penalty {}",
            parties.key(&e.verifier),
            e.round,
            tokens(e.penalty)
        ),
        E::FaultContested(e) => format!(
            "the provider contested: committee seed slot {}, votes due by slot {}",
            e.seed_slot, e.deadline_slot
        ),
        E::CommitteeDrawn(e) => format!(
            "committee drawn ({}), votes due by slot {}",
            e.committee
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            e.deadline_slot
        ),
        E::DrawRearmed(e) => format!(
            "round {}'s draw re-armed: seed slot {}, draw by slot {}",
            e.round, e.seed_slot, e.draw_deadline_slot
        ),
        E::VerifierForfeited(e) => format!(
            "{} forfeited round {}: penalty {}",
            parties.key(&e.verifier),
            e.round,
            tokens(e.penalty)
        ),
        E::DrawLapsed(e) => format!(
            "nobody made the draw in its window ({:?}): provider slashed {}, accuser slashed {}, verifier slashed {}",
            e.from,
            tokens(e.provider_slashed),
            tokens(e.accuser_slashed),
            tokens(e.verifier_slashed)
        ),
        E::ContestResolved(e) => format!(
            "the committee {} the fault, {} votes to {}",
            if e.upheld { "upheld" } else { "overturned" },
            e.votes_uphold.max(e.votes_overturn),
            e.votes_uphold.min(e.votes_overturn)
        ),
        E::PassRecorded(e) => format!(
            "pass by {}: provider paid {}, treasury {}; challengeable until slot {}",
            e.verifier
                .map_or("nobody (no verifier)".to_string(), |v| parties.key(&v)),
            tokens(e.provider_paid),
            tokens(e.treasury_paid),
            e.window_end_slot
        ),
        E::PassChallenged(e) => format!(
            "{} {} chunk {} (challenge {}): committee seed slot {}, votes due by slot {}",
            parties.key(&e.challenger),
            if e.data_unavailable {
                "called unavailable"
            } else {
                "challenged the pass on"
            },
            e.chunk_index,
            e.contest,
            e.seed_slot,
            e.deadline_slot
        ),
        E::PassWindowReopened(e) => format!(
            "the challenge by {} failed ({} slashed); the pass window runs to slot {}",
            parties.key(&e.challenger),
            tokens(e.challenger_slashed),
            e.window_end_slot
        ),
        E::JobClosed(e) => format!(
            "closed {:?}: provider paid {}, verifier paid {}, treasury {}, buyer refunded {}, provider slashed {}, verifier slashed {}",
            e.state,
            tokens(e.provider_paid),
            tokens(e.verifier_paid),
            tokens(e.treasury_paid),
            tokens(e.buyer_refund + e.residue),
            tokens(e.provider_slashed),
            tokens(e.verifier_slashed)
        ),
        E::SettledUnaudited(e) => format!(
            "settled unaudited ({}): the verifier fee, {}, went back to the buyer",
            match e.reason {
                UnauditedReason::NoEligibleVerifier => "no verifier could be drawn",
                UnauditedReason::EveryRoundMissed => "every drawn verifier missed its window",
            },
            tokens(e.verifier_fee_refunded)
        ),
        _ => return None,
    })
}

/// [`describe`] for the events of configs, the treasury and operators' stake.
fn describe_account_event(event: &AssayEvent, parties: &Parties, dec: u8) -> String {
    use AssayEvent as E;
    let tokens = |amount: u64| format!("{} tokens", format_amount(amount, dec));
    match event {
        E::ConfigChanged(e) => format!("market config changed by admin {}", e.admin),
        E::TreasuryWithdrawn(e) => {
            format!("treasury paid {} to {}", tokens(e.amount), e.destination)
        }
        E::StakeConfigInitialized(e) => format!("stake config initialized by admin {}", e.admin),
        E::StakeConfigUpdated(e) => format!(
            "stake config: cooldown {} slots, verifier minimum {}",
            e.unstake_cooldown_slots,
            tokens(e.min_verifier_stake)
        ),
        E::OperatorRegistered(e) => format!("{} registered", parties.key(&e.authority)),
        E::CapabilitiesSet(e) => format!(
            "{} declared capabilities {:#04x}",
            parties.key(&e.authority),
            e.capabilities
        ),
        E::StakeDeposited(e) => format!(
            "{} deposited {} ({} staked)",
            parties.operator(&e.operator),
            tokens(e.amount),
            tokens(e.deposited)
        ),
        E::UnstakeRequested(e) => format!(
            "{} asked to unstake {} (ready at slot {})",
            parties.operator(&e.operator),
            tokens(e.amount),
            e.ready_slot
        ),
        E::StakeWithdrawn(e) => format!(
            "{} withdrew {} ({} staked)",
            parties.operator(&e.operator),
            tokens(e.amount + e.residue),
            tokens(e.deposited)
        ),
        E::StakeLocked(e) => format!(
            "{}: {} locked ({} locked in all)",
            parties.operator(&e.operator),
            tokens(e.amount),
            tokens(e.locked)
        ),
        E::StakeUnlocked(e) => format!(
            "{}: {} unlocked ({} still locked)",
            parties.operator(&e.operator),
            tokens(e.amount),
            tokens(e.locked)
        ),
        E::StakeSlashed(e) => format!(
            "{} slashed {} (to {}; {} staked left)",
            parties.operator(&e.operator),
            tokens(e.amount),
            e.destination,
            tokens(e.deposited)
        ),
        E::VerifierSynced(e) => format!(
            "{}'s draw weight is now {}",
            parties.key(&e.authority),
            tokens(e.weight)
        ),
        // Job events are described by `describe_job_event`.
        other => name(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_market::events::{JobPosted, PassRecorded};
    use assay_stake::events::StakeSlashed;

    #[test]
    fn events_read_in_tokens_and_parties_not_base_units_and_operator_accounts() {
        let (buyer, provider) = (Pubkey::new_unique(), Pubkey::new_unique());
        let posted = AssayEvent::JobPosted(JobPosted {
            job: Pubkey::new_unique(),
            buyer,
            job_id: 7,
            price: 10_000_000,
            collateral: 32_000_000,
            n_chunks: 64,
            samples: 8,
            manifest_hash: [0xab; 32],
        });
        let claimed = AssayEvent::JobClaimed(assay_market::events::JobClaimed {
            job: Pubkey::new_unique(),
            provider,
            commit_deadline_slot: 900,
        });
        let slashed = AssayEvent::StakeSlashed(StakeSlashed {
            operator: assay_client::pda::operator(&provider),
            amount: 20_000_000,
            destination: buyer,
            deposited: 180_000_000,
        });
        let pass = AssayEvent::PassRecorded(PassRecorded {
            job: Pubkey::new_unique(),
            verifier: None,
            provider_paid: 9_400_000,
            treasury_paid: 100_000,
            window_end_slot: 1_234,
        });
        let parties = Parties::from_events([&posted, &claimed]);
        let line = describe(&posted, &parties, 6);
        assert!(line.contains(&format!("buyer {buyer}")), "{line}");
        assert!(
            line.contains("price 10 tokens") && line.contains("collateral 32 tokens"),
            "{line}"
        );
        assert!(line.contains(&"ab".repeat(32)), "{line}");
        assert!(
            !line.contains("10000000") && !line.contains("[171"),
            "{line}"
        );
        let line = describe(&slashed, &parties, 6);
        assert!(
            line.starts_with(&format!("provider {provider} slashed 20 tokens")),
            "{line}"
        );
        assert!(!line.contains("operator account"), "{line}");
        let line = describe(&pass, &parties, 6);
        assert!(
            line.contains("provider paid 9.4 tokens") && line.contains("slot 1234"),
            "{line}"
        );
        assert_eq!(name(&pass), "PassRecorded");
    }
}
