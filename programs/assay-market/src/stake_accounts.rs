//! The stake-program accounts every instruction that locks, unlocks or slashes stake
//! carries, as one composite, with the CPIs that use them.

use crate::constants::{MARKET_AUTHORITY, MARKET_AUTHORITY_AND_BUMP, MARKET_AUTHORITY_SEED};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use assay_stake::constants::{REGISTRY, STAKE_CONFIG};
use assay_stake::cpi::accounts::{LockStake, SlashStake};
use assay_stake::instructions::{LockStakeArgs, StakeAmountArgs};
use assay_stake::program::AssayStake;
use assay_stake::state::{Operator, VerifierRegistry};

#[derive(Accounts)]
pub struct StakeAccounts<'info> {
    pub stake_program: Program<'info, AssayStake>,
    /// The stake program's config, passed on to its CPIs (which read it; this program does not).
    /// CHECK: pinned by address.
    #[account(address = STAKE_CONFIG)]
    pub stake_config: UncheckedAccount<'info>,
    /// Carried into a stake CPI only for a verifier's stake (a provider-only operator's
    /// stake changes no draw weight; each CPI pays for the registry's size in units).
    #[account(mut, address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
    /// CHECK: this program's PDA; it holds no data and only signs stake CPIs.
    #[account(address = MARKET_AUTHORITY)]
    pub market_authority: UncheckedAccount<'info>,
    /// CHECK: the stake program's event authority, checked by address.
    #[account(address = assay_stake::EVENT_AUTHORITY_AND_BUMP.0)]
    pub stake_event_authority: UncheckedAccount<'info>,
}

/// A staked party whose stake a transition slashes: its operator account and stake vault.
/// Which role it holds in the job is the instruction's own constraint on the field
/// (`constraint = job.provider == Some(provider.operator.authority)`).
///
/// No seeds are checked here, and none need be: an `Operator` (owner and discriminator
/// checked by `Account`) exists only where the stake program's `register_operator` created
/// it, at `[OPERATOR_SEED, authority]`, and its `authority` never changes, so an operator
/// whose authority is the party's is the party's operator account. The vault is pinned to
/// the operator by the stake program's `slash_stake`, the only use it has.
#[derive(Accounts)]
pub struct StakedParty<'info> {
    #[account(mut)]
    pub operator: Box<Account<'info, Operator>>,
    #[account(mut)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

impl<'info> StakeAccounts<'info> {
    fn lock_accounts(&self, operator: &Account<'info, Operator>) -> LockStake<'info> {
        LockStake {
            market_authority: self.market_authority.to_account_info(),
            config: self.stake_config.to_account_info(),
            registry: operator
                .is_verifier()
                .then(|| self.registry.to_account_info()),
            operator: operator.to_account_info(),
            event_authority: self.stake_event_authority.to_account_info(),
            program: self.stake_program.to_account_info(),
        }
    }

    fn with_authority<R>(f: impl FnOnce(&[&[&[u8]]]) -> R) -> R {
        let bump = [MARKET_AUTHORITY_AND_BUMP.1];
        let seeds: &[&[u8]] = &[MARKET_AUTHORITY_SEED, &bump];
        f(&[seeds])
    }

    /// Locks `amount` of `operator`'s available stake (no-op for 0).
    pub fn lock(&self, operator: &Account<'info, Operator>, amount: u64) -> Result<()> {
        self.lock_with(operator, amount, false)
    }

    /// Locks `amount` of `operator`'s stake, taking what available stake lacks from its
    /// pending unstake (a drawn verifier's bond or forfeit penalty; no-op for 0).
    pub fn lock_reclaiming(&self, operator: &Account<'info, Operator>, amount: u64) -> Result<()> {
        self.lock_with(operator, amount, true)
    }

    fn lock_with(
        &self,
        operator: &Account<'info, Operator>,
        amount: u64,
        reclaim_unstaking: bool,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        Self::with_authority(|signer| {
            assay_stake::cpi::lock_stake(
                CpiContext::new_with_signer(assay_stake::ID, self.lock_accounts(operator), signer),
                LockStakeArgs {
                    amount,
                    reclaim_unstaking,
                },
            )
        })
    }

    /// Unlocks `amount` of `operator`'s locked stake (no-op for 0).
    pub fn unlock(&self, operator: &Account<'info, Operator>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        Self::with_authority(|signer| {
            assay_stake::cpi::unlock_stake(
                CpiContext::new_with_signer(assay_stake::ID, self.lock_accounts(operator), signer),
                StakeAmountArgs { amount },
            )
        })
    }

    /// Releases `locked` of `operator`'s stake held for a job, less `penalty` (at most
    /// `locked`), which is slashed into `treasury`: what a party pays for leaving a step
    /// it owed undone (a missed verdict) or a step it asked for undecided (a voided
    /// contest or challenge). Returns the penalty paid.
    #[allow(clippy::too_many_arguments)]
    pub fn release_with_penalty(
        &self,
        operator: &Account<'info, Operator>,
        operator_vault: &InterfaceAccount<'info, TokenAccount>,
        treasury: &InterfaceAccount<'info, TokenAccount>,
        mint: &InterfaceAccount<'info, Mint>,
        token_program: &Interface<'info, TokenInterface>,
        locked: u64,
        penalty: u64,
    ) -> Result<u64> {
        let penalty = penalty.min(locked);
        self.slash(
            operator,
            operator_vault,
            treasury,
            mint,
            token_program,
            penalty,
        )?;
        self.unlock(operator, locked - penalty)?;
        Ok(penalty)
    }

    /// Moves `amount` of `operator`'s locked stake into `destination` (no-op for 0).
    #[allow(clippy::too_many_arguments)]
    pub fn slash(
        &self,
        operator: &Account<'info, Operator>,
        operator_vault: &InterfaceAccount<'info, TokenAccount>,
        destination: &InterfaceAccount<'info, TokenAccount>,
        mint: &InterfaceAccount<'info, Mint>,
        token_program: &Interface<'info, TokenInterface>,
        amount: u64,
    ) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let accounts = SlashStake {
            market_authority: self.market_authority.to_account_info(),
            config: self.stake_config.to_account_info(),
            registry: operator
                .is_verifier()
                .then(|| self.registry.to_account_info()),
            operator: operator.to_account_info(),
            vault: operator_vault.to_account_info(),
            destination: destination.to_account_info(),
            mint: mint.to_account_info(),
            token_program: token_program.to_account_info(),
            event_authority: self.stake_event_authority.to_account_info(),
            program: self.stake_program.to_account_info(),
        };
        Self::with_authority(|signer| {
            assay_stake::cpi::slash_stake(
                CpiContext::new_with_signer(assay_stake::ID, accounts, signer),
                StakeAmountArgs { amount },
            )
        })
    }
}
