//! The two parties a pass keeps at stake until its window ends — the provider (its
//! collateral) and the attesting verifier (its bond; none for an unaudited pass, opened by
//! `finalize`) — with the stake-program accounts that unlock or slash them, as one
//! composite so every pass instruction states the rule once.

use anchor_lang::prelude::*;
use assay_stake::state::Operator;

use crate::errors::MarketError;
use crate::stake_accounts::*;
use crate::state::Job;

#[derive(Accounts)]
pub struct PassParties<'info> {
    #[account(mut)]
    pub provider_operator: Box<Account<'info, Operator>>,
    /// Absent for an unaudited pass (no verifier attested it).
    #[account(mut)]
    pub verifier_operator: Option<Box<Account<'info, Operator>>>,
    pub stake: StakeAccounts<'info>,
}

impl<'info> PassParties<'info> {
    /// The operators are the job's provider and its attesting verifier (none given when
    /// the pass has none).
    pub fn belong_to(&self, job: &Job) -> Result<()> {
        require!(
            job.provider == Some(self.provider_operator.authority)
                && job.verifier == self.verifier_operator.as_ref().map(|v| v.authority),
            MarketError::WrongOperator
        );
        Ok(())
    }

    /// Unlocks the provider's collateral and the verifier's bond (if any).
    pub fn unlock_both(&self, job: &Job) -> Result<()> {
        self.stake.unlock(&self.provider_operator, job.collateral)?;
        if let Some(verifier) = &self.verifier_operator {
            self.stake.unlock(verifier, job.verifier_bond)?;
        }
        Ok(())
    }
}
