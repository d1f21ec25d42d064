//! Address lookup tables, for the transactions that do not fit Solana's 1,232-byte packet
//! as legacy transactions.
//!
//! A committee's decision is the largest: an Ed25519 instruction with a majority's
//! signatures, then `resolve_contest` (or `uphold_challenge` / `overturn_challenge`) with
//! 21 accounts. A v0 transaction names the deployment's fixed accounts through a lookup
//! table, one byte each instead of 32. [`crate::rpc::RpcChain`] sends a transaction as v0
//! only after the endpoint refused its legacy form as too large (the embedded bank has no
//! packet limit and no lookup-table program), through a table its fee payer owns: found
//! on chain, or created on first need.

use anchor_lang::prelude::Pubkey;
use solana_address_lookup_table_interface::state::AddressLookupTable;
use solana_sdk::message::AddressLookupTableAccount;

use crate::ix::Deployment;
use crate::pda;

pub use solana_address_lookup_table_interface::program::ID as LOOKUP_TABLE_PROGRAM_ID;

/// Byte offset of the authority (after its `Some` tag) in a lookup table account: the
/// program-state tag (4), deactivation slot (8), last extended slot (8) and its start
/// index (1), then the `Option<Pubkey>` tag (1).
pub const AUTHORITY_OFFSET: usize = 22;

/// The accounts every market transaction of this deployment names that never change: the
/// mint and token program, the treasury, both configs, the verifier registry, the market's
/// signing authority, both programs' event authorities, the stake program (passed as an
/// account), the instructions sysvar and the system program.
pub fn deployment_addresses(d: &Deployment) -> Vec<Pubkey> {
    vec![
        d.mint,
        d.token_program,
        d.treasury,
        pda::market_config(),
        pda::stake_config(),
        pda::verifier_registry(),
        pda::market_authority(),
        assay_market::EVENT_AUTHORITY_AND_BUMP.0,
        assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
        assay_stake::ID,
        solana_sdk::sysvar::instructions::ID,
        solana_sdk_ids::system_program::ID,
    ]
}

/// The table at `key`, if `data` is a lookup table that is not being deactivated and
/// holds every one of `wanted`.
pub fn table_holding(
    key: Pubkey,
    data: &[u8],
    wanted: &[Pubkey],
) -> Option<AddressLookupTableAccount> {
    let table = AddressLookupTable::deserialize(data).ok()?;
    if table.meta.deactivation_slot != u64::MAX {
        return None;
    }
    let addresses = table.addresses.to_vec();
    wanted
        .iter()
        .all(|w| addresses.contains(w))
        .then_some(AddressLookupTableAccount { key, addresses })
}

/// The slot in which `data`'s table was last extended: its addresses resolve in later
/// slots only.
pub fn last_extended_slot(data: &[u8]) -> Option<u64> {
    AddressLookupTable::deserialize(data)
        .ok()
        .map(|t| t.meta.last_extended_slot)
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_address_lookup_table_interface::state::{LookupTableMeta, ProgramState};

    fn table_bytes(authority: Pubkey, deactivation_slot: u64, addresses: &[Pubkey]) -> Vec<u8> {
        AddressLookupTable {
            meta: LookupTableMeta {
                deactivation_slot,
                last_extended_slot: 7,
                authority: Some(authority),
                ..LookupTableMeta::default()
            },
            addresses: std::borrow::Cow::Borrowed(addresses),
        }
        .serialize_for_tests()
        .unwrap()
    }

    #[test]
    fn a_table_is_found_by_its_authority_and_used_only_while_active_and_complete() {
        let d = Deployment {
            mint: Pubkey::new_unique(),
            token_program: anchor_spl::token::ID,
            treasury: pda::treasury(),
        };
        let wanted = deployment_addresses(&d);
        let authority = Pubkey::new_unique();
        let key = Pubkey::new_unique();
        let data = table_bytes(authority, u64::MAX, &wanted);
        assert_eq!(
            &data[AUTHORITY_OFFSET..AUTHORITY_OFFSET + 32],
            authority.as_ref()
        );
        assert!(matches!(
            bincode::deserialize::<ProgramState>(&data),
            Ok(ProgramState::LookupTable(_))
        ));
        let found = table_holding(key, &data, &wanted).expect("a complete, active table");
        assert_eq!((found.key, found.addresses), (key, wanted.clone()));
        assert_eq!(last_extended_slot(&data), Some(7));
        // Being deactivated: it will stop resolving, so it is not used.
        assert!(table_holding(key, &table_bytes(authority, 100, &wanted), &wanted).is_none());
        // Missing an address.
        assert!(table_holding(
            key,
            &table_bytes(authority, u64::MAX, &wanted[1..]),
            &wanted
        )
        .is_none());
    }

    /// A job in contest: provider, accuser and a committee of `seats` set, the rest zero.
    fn contested_job(seats: usize) -> assay_market::state::Job {
        use anchor_lang::{AccountDeserialize, Discriminator};
        let mut data = assay_market::state::Job::DISCRIMINATOR.to_vec();
        data.resize(assay_market::state::Job::SIZE, 0);
        let mut job = assay_market::state::Job::try_deserialize(&mut data.as_slice()).unwrap();
        job.buyer = Pubkey::new_unique();
        job.treasury = pda::treasury();
        job.provider = Some(Pubkey::new_unique());
        job.accuser = Some(Pubkey::new_unique());
        job.committee = (0..seats).map(|_| Pubkey::new_unique()).collect();
        job
    }

    /// The committee's decision (a majority's votes, then resolve_contest) for every
    /// committee size the program allows: over the packet limit as a legacy transaction
    /// from a majority of two on, within it as v0 through the deployment's table.
    #[test]
    fn a_majority_of_any_committee_fits_a_packet_as_v0_through_the_table() {
        use solana_sdk::signature::Keypair;
        const PACKET_DATA_SIZE: usize = 1232;
        let d = Deployment {
            mint: Pubkey::new_unique(),
            token_program: anchor_spl::token::ID,
            treasury: pda::treasury(),
        };
        let table = AddressLookupTableAccount {
            key: Pubkey::new_unique(),
            addresses: deployment_addresses(&d),
        };
        let payer = Keypair::new();
        let blockhash = solana_sdk::hash::Hash::new_unique();
        for seats in [1usize, 3, 5, 7] {
            let majority = seats / 2 + 1;
            let job_key = Pubkey::new_unique();
            let job = contested_job(seats);
            let votes: Vec<_> = (0..majority)
                .map(|i| {
                    let key = ed25519_dalek::SigningKey::from_bytes(&[i as u8 + 1; 32]);
                    let message = crate::ix::vote_message(
                        &job_key,
                        &job,
                        assay_protocol::Verdict::UpholdFault,
                    );
                    (key, message)
                })
                .collect();
            let ixs = [
                crate::ix::vote_instruction(&votes),
                d.resolve_contest(&job_key, &job).unwrap(),
            ];
            let legacy =
                crate::chain::build_transaction(&ixs, &payer, &[], blockhash, None, 0).unwrap();
            let v0 = crate::chain::build_v0_transaction(
                &ixs,
                &payer,
                &[],
                blockhash,
                0,
                std::slice::from_ref(&table),
            )
            .unwrap();
            let legacy_size = bincode::serialized_size(&legacy).unwrap() as usize;
            let v0_size = bincode::serialized_size(&v0).unwrap() as usize;
            println!("committee {seats}, {majority} votes: legacy {legacy_size} bytes, v0 {v0_size} bytes");
            assert!(
                v0_size <= PACKET_DATA_SIZE,
                "{majority} of {seats}: v0 is {v0_size} bytes"
            );
            if majority >= 2 {
                assert!(
                    legacy_size > PACKET_DATA_SIZE,
                    "{majority} of {seats}: legacy {legacy_size}"
                );
            }
        }
    }
}
