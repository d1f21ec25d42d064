//! Compute budgets for the transactions the SDK builds.
//!
//! Every transaction starts with a ComputeBudget `SetComputeUnitLimit` sized from what its
//! instructions were measured to use as SBF (`cargo bench -p assay-tests --bench
//! compute_units`, recorded in docs/benchmarks.md), plus headroom, and — when the caller
//! sets a priority fee — a `SetComputeUnitPrice`. A tight limit is what lets a priority
//! fee buy anything: the fee is charged per *requested* unit.

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_sdk::instruction::Instruction;

/// The most a transaction may request.
pub const MAX_UNIT_LIMIT: u32 = 1_400_000;

/// Headroom over the measured worst case: SBF code from Solana's platform tools still
/// differs from the measured build (docs/benchmarks.md), and data-dependent paths vary.
const HEADROOM_PERCENT: u64 = 30;

/// Budget for an instruction of a program this table does not know: the runtime's own
/// default per instruction.
const UNKNOWN_INSTRUCTION_UNITS: u64 = 200_000;

/// Worst-case compute units measured per Assay instruction as SBF (CPIs included), by
/// Anchor discriminator: the highest of two runs of `cargo bench -p assay-tests --bench
/// compute_units` (64 verifiers — the registry's sum trees cost the same at any size —,
/// committee of 7, 4 rounds, 32-level proofs, 64 samples) plus 15 %, rounded up to the
/// next thousand (lowered to the measurements of issue #30's fourth step, 2026-12-07: the
/// programs' memory builtins on the runtime's syscalls, as platform tools build them), net
/// of [`bump_search_units`] (which [`instruction_units`] adds per instruction;
/// `register_operator` is its first-try cost, `post_job` the highest measured). Runs still
/// vary by several percent (fresh keys change draws and samples); the bench fails when a
/// measurement exceeds what [`instruction_units`] gives its instruction. `report_fault` gets
/// more: with every chunk sampled, drawing 64 distinct indices of 64 repeats draws a
/// seed-dependent number of times (70,000–152,000 units over ten runs before this step).
pub fn measured_units(program: &Pubkey, data: &[u8]) -> Option<u64> {
    use assay_market::instruction as m;
    use assay_stake::instruction as s;
    let table: &[(Pubkey, &[u8], u64)] = &[
        (assay_stake::ID, s::Initialize::DISCRIMINATOR, 21_000),
        (assay_stake::ID, s::GrowRegistry::DISCRIMINATOR, 8_000),
        (assay_stake::ID, s::UpdateConfig::DISCRIMINATOR, 8_000),
        (assay_stake::ID, s::RegisterOperator::DISCRIMINATOR, 28_000),
        (assay_stake::ID, s::Deposit::DISCRIMINATOR, 33_000),
        (assay_stake::ID, s::RequestUnstake::DISCRIMINATOR, 15_000),
        (assay_stake::ID, s::Withdraw::DISCRIMINATOR, 31_000),
        (assay_stake::ID, s::SyncVerifier::DISCRIMINATOR, 13_000),
        (assay_stake::ID, s::SetCapabilities::DISCRIMINATOR, 14_000),
        (assay_market::ID, m::InitializeConfig::DISCRIMINATOR, 38_000),
        (assay_market::ID, m::UpdateConfig::DISCRIMINATOR, 13_000),
        (assay_market::ID, m::WithdrawTreasury::DISCRIMINATOR, 23_000),
        (assay_market::ID, m::PostJob::DISCRIMINATOR, 61_000),
        (assay_market::ID, m::CancelJob::DISCRIMINATOR, 44_000),
        (assay_market::ID, m::ClaimJob::DISCRIMINATOR, 38_000),
        (assay_market::ID, m::CommitResult::DISCRIMINATOR, 19_000),
        (assay_market::ID, m::ExpireJob::DISCRIMINATOR, 106_000),
        (assay_market::ID, m::DrawChallenge::DISCRIMINATOR, 94_000),
        (assay_market::ID, m::AttestPass::DISCRIMINATOR, 52_000),
        (assay_market::ID, m::ClosePass::DISCRIMINATOR, 91_000),
        (assay_market::ID, m::ChallengePass::DISCRIMINATOR, 88_000),
        (
            assay_market::ID,
            m::ChallengeAvailability::DISCRIMINATOR,
            47_000,
        ),
        (assay_market::ID, m::UpholdChallenge::DISCRIMINATOR, 204_000),
        (
            assay_market::ID,
            m::OverturnChallenge::DISCRIMINATOR,
            124_000,
        ),
        (assay_market::ID, m::VoidChallenge::DISCRIMINATOR, 94_000),
        (assay_market::ID, m::ReportFault::DISCRIMINATOR, 180_000),
        (assay_market::ID, m::ConcedeFault::DISCRIMINATOR, 141_000),
        (assay_market::ID, m::ContestFault::DISCRIMINATOR, 24_000),
        (assay_market::ID, m::DrawCommittee::DISCRIMINATOR, 39_000),
        (assay_market::ID, m::LapseDraw::DISCRIMINATOR, 208_000),
        (assay_market::ID, m::ResolveContest::DISCRIMINATOR, 182_000),
        (assay_market::ID, m::VoidContest::DISCRIMINATOR, 135_000),
        (assay_market::ID, m::AdvanceRound::DISCRIMINATOR, 97_000),
        (assay_market::ID, m::Finalize::DISCRIMINATOR, 124_000),
    ];
    table
        .iter()
        .find(|(p, disc, _)| p == program && data.starts_with(disc))
        .map(|&(_, _, units)| units)
}

/// Units for instructions of other programs the SDK sends (generous: a few thousand
/// units matter less than a failed transaction).
fn other_program_units(program: &Pubkey) -> u64 {
    if *program == solana_sdk_ids::system_program::ID
        || *program == solana_sdk_ids::compute_budget::ID
    {
        1_000
    } else if *program == solana_sdk_ids::ed25519_program::ID {
        0
    } else if *program == anchor_spl::token::ID || *program == anchor_spl::token_2022::ID {
        20_000
    } else if *program == anchor_spl::associated_token::ID {
        60_000
    } else if *program == crate::chain::MEMO_PROGRAM_ID {
        10_000
    } else {
        UNKNOWN_INSTRUCTION_UNITS
    }
}

/// What one step of an on-chain bump search costs: the runtime charges
/// `create_program_address`'s price for every bump `find_program_address` tries.
pub const BUMP_SEARCH_STEP_UNITS: u64 = 1_500;

/// Units `ix`'s handler spends on bump searches beyond the first try. `register_operator`
/// and `post_job` create two PDAs each from the signer's key (and the job id), and Anchor's
/// `seeds, bump` constraint searches down from 255 for each: one more step per bump below
/// 255, a property of the key, about one extra step per PDA on average but unbounded in
/// principle (a step more with probability ½ each). The table's entries are measured net
/// of these steps, so neither a budget nor the bench that checks it depends on which key
/// a run happened to draw.
pub fn bump_search_units(ix: &Instruction) -> u64 {
    use assay_market::constants::{JOB_SEED, JOB_VAULT_SEED};
    use assay_stake::constants::{OPERATOR_SEED, STAKE_VAULT_SEED};
    let steps = |seeds: &[&[u8]], program: &Pubkey| {
        let (address, bump) = Pubkey::find_program_address(seeds, program);
        (address, u64::from(u8::MAX - bump))
    };
    let Some(signer) = ix.accounts.first().map(|meta| meta.pubkey) else {
        return 0;
    };
    let (first, second) = if ix.program_id == assay_stake::ID
        && ix
            .data
            .starts_with(assay_stake::instruction::RegisterOperator::DISCRIMINATOR)
    {
        let (operator, first) = steps(&[OPERATOR_SEED, signer.as_ref()], &assay_stake::ID);
        let (_, second) = steps(&[STAKE_VAULT_SEED, operator.as_ref()], &assay_stake::ID);
        (first, second)
    } else if ix.program_id == assay_market::ID
        && ix
            .data
            .starts_with(assay_market::instruction::PostJob::DISCRIMINATOR)
    {
        // `PostJobArgs` starts with the job id.
        let Some(job_id) = ix.data.get(8..16) else {
            return 0;
        };
        let (job, first) = steps(&[JOB_SEED, signer.as_ref(), job_id], &assay_market::ID);
        let (_, second) = steps(&[JOB_VAULT_SEED, job.as_ref()], &assay_market::ID);
        (first, second)
    } else {
        return 0;
    };
    (first + second) * BUMP_SEARCH_STEP_UNITS
}

/// The units `ix` was measured to need at worst, for these very accounts: its table entry
/// plus its bump searches. None for an instruction the table does not know.
pub fn instruction_units(ix: &Instruction) -> Option<u64> {
    measured_units(&ix.program_id, &ix.data).map(|units| units + bump_search_units(ix))
}

/// The compute-unit limit for a transaction of `ixs`: the sum of their measured worst
/// cases plus headroom, at most [`MAX_UNIT_LIMIT`].
pub fn unit_limit(ixs: &[Instruction]) -> u32 {
    let units: u64 = ixs
        .iter()
        .map(|ix| {
            instruction_units(ix)
                .map(|u| u * (100 + HEADROOM_PERCENT) / 100)
                .unwrap_or_else(|| other_program_units(&ix.program_id))
        })
        .sum();
    u32::try_from(units)
        .unwrap_or(MAX_UNIT_LIMIT)
        .min(MAX_UNIT_LIMIT)
}

/// The ComputeBudget instructions to put in front of `ixs`: a unit limit, and a unit
/// price when `priority_fee` (micro-lamports per unit) is not 0. None when `ixs` already
/// carry their own ComputeBudget instructions (a second one would fail the transaction).
pub fn budget_instructions(ixs: &[Instruction], priority_fee: u64) -> Vec<Instruction> {
    if ixs
        .iter()
        .any(|ix| ix.program_id == solana_sdk_ids::compute_budget::ID)
    {
        return vec![];
    }
    let mut out = vec![ComputeBudgetInstruction::set_compute_unit_limit(
        unit_limit(ixs),
    )];
    if priority_fee > 0 {
        out.push(ComputeBudgetInstruction::set_compute_unit_price(
            priority_fee,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assay(program: Pubkey, discriminator: &[u8]) -> Instruction {
        Instruction {
            program_id: program,
            accounts: vec![],
            data: discriminator.to_vec(),
        }
    }

    #[test]
    fn limits_cover_the_measured_worst_case_with_headroom_and_fees_are_optional() {
        use assay_market::instruction as m;
        let finalize = assay(assay_market::ID, m::Finalize::DISCRIMINATOR);
        let post = assay(assay_market::ID, m::PostJob::DISCRIMINATOR);
        let measured = measured_units(&finalize.program_id, &finalize.data).unwrap();
        let alone = unit_limit(std::slice::from_ref(&finalize));
        assert_eq!(u64::from(alone), measured * 13 / 10);
        let both = unit_limit(&[finalize.clone(), post.clone()]);
        assert!(both > alone);
        let many = vec![finalize.clone(); 20];
        assert_eq!(unit_limit(&many), MAX_UNIT_LIMIT);

        let plain = budget_instructions(std::slice::from_ref(&post), 0);
        assert_eq!(plain.len(), 1, "a unit limit, no price");
        let paid = budget_instructions(std::slice::from_ref(&post), 5_000);
        assert_eq!(
            paid[1],
            ComputeBudgetInstruction::set_compute_unit_price(5_000)
        );
        // The caller's own budget instructions win: a second one would fail the transaction.
        let own = [ComputeBudgetInstruction::set_compute_unit_limit(1), post];
        assert!(budget_instructions(&own, 5_000).is_empty());
    }

    /// A key whose PDAs' bumps sit deep gets the units its bump searches cost on chain
    /// (the bench `compute_units` measures that cost on the loaded program), so no
    /// operator's registration or job fails for the key it happened to draw.
    #[test]
    fn budgets_follow_the_bump_searches_of_the_signers_key() {
        use solana_sdk::signature::{Keypair, Signer};
        let d = crate::ix::Deployment {
            mint: Pubkey::new_unique(),
            token_program: anchor_spl::token::ID,
            treasury: Pubkey::new_unique(),
        };
        let register = |k: &Keypair| d.register_operator(&k.pubkey(), 2);
        let keys: Vec<Keypair> = (0..64).map(|_| Keypair::new()).collect();
        let searches: Vec<u64> = keys
            .iter()
            .map(|k| bump_search_units(&register(k)))
            .collect();
        assert!(searches.iter().all(|u| u % BUMP_SEARCH_STEP_UNITS == 0));
        let (low, high) = (
            keys.iter().zip(&searches).min_by_key(|(_, u)| **u).unwrap(),
            keys.iter().zip(&searches).max_by_key(|(_, u)| **u).unwrap(),
        );
        assert!(high.1 > low.1, "64 keys with the same bumps");
        let limit = |k: &Keypair| u64::from(unit_limit(&[register(k)]));
        assert_eq!(
            limit(high.0) - limit(low.0),
            (high.1 - low.1) * (100 + HEADROOM_PERCENT) / 100
        );
        // Instructions that create no PDA from a signer's key search nothing.
        let finalize = assay(
            assay_market::ID,
            assay_market::instruction::Finalize::DISCRIMINATOR,
        );
        assert_eq!(bump_search_units(&finalize), 0);
    }
}
