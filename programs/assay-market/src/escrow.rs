//! The accounts of a job's escrow that every exit takes, moving tokens out of its vault
//! (signed by the job PDA) and closing it, plus the pure payout arithmetic every exit uses.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    self, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use crate::constants::JOB_VAULT_SEED;
use crate::errors::MarketError;
use crate::stake_accounts::StakeAccounts;
use crate::state::{bps_of, Job};
use assay_stake::state::Operator;

/// How slashed stake is divided: `finder + treasury + victim == slashed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashSplit {
    /// To the verifier that found the fault (0 when there is none).
    pub finder: u64,
    pub treasury: u64,
    /// To the wronged party: the buyer, or the provider when a fault report is overturned.
    pub victim: u64,
}

impl SlashSplit {
    pub fn new(slashed: u64, finder_bps: u16, treasury_bps: u16) -> Result<Self> {
        let finder = bps_of(slashed, finder_bps)?;
        let treasury = bps_of(slashed, treasury_bps)?;
        let victim = slashed
            .checked_sub(finder)
            .and_then(|rest| rest.checked_sub(treasury))
            .ok_or(MarketError::Overflow)?;
        Ok(Self {
            finder,
            treasury,
            victim,
        })
    }

    /// What an accuser the committee overturned forfeits of its `bond`, and where it goes.
    /// A wrong chunk the committee recomputed right is a false accusation: the whole bond,
    /// the treasury's share to the treasury and the rest to the party wrongly accused. A
    /// chunk called unavailable and served by the time the committee looked cannot be
    /// shown withheld or not (the fisherman's dilemma): the accuser forfeits what silence
    /// costs, `min(bond, miss penalty)`, all to the treasury, so the accused gains nothing
    /// by withholding a chunk until someone calls it out.
    pub fn overturned(job: &Job, bond: u64) -> Result<(u64, Self)> {
        if job.fault_unavailable {
            let forfeit = bond.min(job.params.verifier_miss_penalty);
            Ok((
                forfeit,
                Self {
                    finder: 0,
                    treasury: forfeit,
                    victim: 0,
                },
            ))
        } else {
            Ok((bond, Self::new(bond, 0, job.params.treasury_slash_bps)?))
        }
    }
}

/// The accounts every instruction that ends a job takes, with their rules stated once:
/// the job (closed to its buyer when the instruction succeeds), the buyer as rent
/// receiver, the job's vault, a token account of the buyer for refunds and residue, and
/// the vault's mint and token program.
#[derive(Accounts)]
pub struct TerminalEscrow<'info> {
    #[account(
        mut,
        close = buyer,
    )]
    pub job: Box<Account<'info, Job>>,
    /// CHECK: receives the rent of the job and its vault; pinned to the job's buyer.
    #[account(mut, address = job.buyer @ MarketError::NotBuyer)]
    pub buyer: UncheckedAccount<'info>,
    #[account(mut, seeds = [JOB_VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// Any token account of the buyer (anyone can create one, so the buyer closing its
    /// accounts cannot block an exit): refunds, compensation and the vault's residue.
    #[account(
        mut,
        token::mint = mint,
        token::authority = job.buyer,
        token::token_program = token_program,
    )]
    pub buyer_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = vault.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// A job's escrow for an instruction that moves tokens but leaves the job open (a pass,
/// a challenge of it): the job, its vault, and the vault's mint and token program.
#[derive(Accounts)]
pub struct OpenEscrow<'info> {
    #[account(mut)]
    pub job: Box<Account<'info, Job>>,
    #[account(
        mut,
        seeds = [JOB_VAULT_SEED, job.key().as_ref()],
        bump = job.vault_bump,
        token::token_program = token_program,
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = vault.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
}

/// What both escrows hold — the job, its vault, the vault's mint and token program — with
/// what every instruction moving tokens out of the vault does with them, written once.
pub trait Escrow<'info> {
    fn job(&self) -> &Account<'info, Job>;
    fn vault(&self) -> &InterfaceAccount<'info, TokenAccount>;
    fn mint(&self) -> &InterfaceAccount<'info, Mint>;
    fn token_program(&self) -> &Interface<'info, TokenInterface>;

    /// Pays `amount` from the vault to `to` (no-op for 0).
    fn pay(&self, to: &InterfaceAccount<'info, TokenAccount>, amount: u64) -> Result<()> {
        pay_from_vault(
            self.job(),
            self.vault(),
            self.mint(),
            self.token_program(),
            to,
            amount,
        )
    }

    /// The rule for every token account an instruction pays a party of the job into,
    /// stated once: it is of the job's mint under the job's token program (`WrongMint`),
    /// and held by `party` — the provider, accuser or verifier the instruction pays
    /// (`WrongAccountOwner`). Any token account of the party will do (anyone can create
    /// one, so closing accounts cannot block an exit), the buyer's own included when one
    /// key holds two roles.
    fn require_payee(
        &self,
        payee: &InterfaceAccount<'_, TokenAccount>,
        party: Option<Pubkey>,
    ) -> Result<()> {
        require!(
            payee.mint == self.mint().key()
                && *payee.to_account_info().owner == self.token_program().key(),
            MarketError::WrongMint
        );
        require!(party == Some(payee.owner), MarketError::WrongAccountOwner);
        Ok(())
    }
}

/// The parts of an [`Escrow`] as fields of the same names.
macro_rules! escrow_parts {
    ($($escrow:ident),+) => {$(
        impl<'info> Escrow<'info> for $escrow<'info> {
            fn job(&self) -> &Account<'info, Job> {
                &self.job
            }
            fn vault(&self) -> &InterfaceAccount<'info, TokenAccount> {
                &self.vault
            }
            fn mint(&self) -> &InterfaceAccount<'info, Mint> {
                &self.mint
            }
            fn token_program(&self) -> &Interface<'info, TokenInterface> {
                &self.token_program
            }
        }
    )+};
}
escrow_parts!(OpenEscrow, TerminalEscrow);

/// Moves `amount` from `job`'s vault to `to`, signed by the job PDA (no-op for 0).
fn pay_from_vault<'info>(
    job: &Account<'info, Job>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    token_program: &Interface<'info, TokenInterface>,
    to: &InterfaceAccount<'info, TokenAccount>,
    amount: u64,
) -> Result<()> {
    if amount == 0 {
        return Ok(());
    }
    job.with_signer_seeds(|signer| {
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                token_program.key(),
                TransferChecked {
                    from: vault.to_account_info(),
                    mint: mint.to_account_info(),
                    to: to.to_account_info(),
                    authority: job.to_account_info(),
                },
                signer,
            ),
            amount,
            mint.decimals,
        )
    })
}

impl<'info> TerminalEscrow<'info> {
    /// Tokens in the vault now (after any payments and inflows in this instruction).
    fn balance(&self) -> Result<u64> {
        let info = self.vault.to_account_info();
        let data = info.try_borrow_data()?;
        Ok(TokenAccount::try_deserialize(&mut &data[..])?.amount)
    }

    /// Ends the escrow once every recorded amount is paid: whatever the vault still holds
    /// (tokens anyone may send it unasked) goes to `buyer_token`, then the vault closes
    /// with its lamports (rent and any lamport donations) to the buyer. Returns that
    /// residue. A donation therefore never blocks an exit.
    pub fn close(&self) -> Result<u64> {
        let residue = self.balance()?;
        self.pay(&self.buyer_token, residue)?;
        self.job.with_signer_seeds(|signer| {
            token_interface::close_account(CpiContext::new_with_signer(
                self.token_program.key(),
                CloseAccount {
                    account: self.vault.to_account_info(),
                    destination: self.buyer.to_account_info(),
                    authority: self.job.to_account_info(),
                },
                signer,
            ))
        })?;
        Ok(residue)
    }

    /// Slashes the provider's whole collateral into the vault and pays the buyer (price
    /// plus the victim share), the finder (when given) and the treasury from it.
    pub fn slash_provider_and_refund(
        &self,
        stake: &StakeAccounts<'info>,
        provider_operator: &Account<'info, Operator>,
        provider_vault: &InterfaceAccount<'info, TokenAccount>,
        finder_token: Option<&InterfaceAccount<'info, TokenAccount>>,
        treasury: &InterfaceAccount<'info, TokenAccount>,
    ) -> Result<Payout> {
        let job = &self.job;
        stake.slash(
            provider_operator,
            provider_vault,
            &self.vault,
            &self.mint,
            &self.token_program,
            job.collateral,
        )?;
        let payout = Payout::slash_provider(job, finder_token.is_some())?;
        self.pay(&self.buyer_token, payout.buyer)?;
        if let Some(finder) = finder_token {
            self.pay(finder, payout.verifier)?;
        }
        self.pay(treasury, payout.treasury)?;
        Ok(payout)
    }
}

/// Who receives what when a job is paid out (all base units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Payout {
    pub provider: u64,
    pub verifier: u64,
    pub treasury: u64,
    pub buyer: u64,
}

impl Payout {
    /// The provider is paid. The verifier fee goes to the attesting verifier when one
    /// verified the sample, and back to the buyer when no audit happened.
    pub fn settle(job: &Job, verifier_attested: bool) -> Result<Self> {
        let (verifier, buyer) = if verifier_attested {
            (job.verifier_fee, 0)
        } else {
            (0, job.verifier_fee)
        };
        Ok(Self {
            provider: job.provider_payout()?,
            verifier,
            treasury: job.protocol_fee,
            buyer,
        })
    }

    /// The provider forfeits: the buyer gets its price back plus the victim share of the
    /// slashed collateral, the finder (if any) its fee, the treasury its share.
    pub fn slash_provider(job: &Job, with_finder: bool) -> Result<Self> {
        let finder_bps = if with_finder {
            job.params.finder_fee_bps
        } else {
            0
        };
        let split = SlashSplit::new(job.collateral, finder_bps, job.params.treasury_slash_bps)?;
        Ok(Self {
            provider: 0,
            verifier: split.finder,
            treasury: split.treasury,
            buyer: job
                .price
                .checked_add(split.victim)
                .ok_or(MarketError::Overflow)?,
        })
    }

    /// A pass is shown wrong: the provider's collateral and the verifier's bond (if the
    /// pass had a verifier) are slashed; the finder share of both goes to the challenger
    /// (`verifier`), the treasury its share, and the buyer the rest plus the verifier's
    /// fee, which nobody earned. A chunk shown unavailable after the pass is the
    /// provider's alone to keep (the verifier read its sample when it attested): only the
    /// collateral is slashed, and the verifier's fee stays the verifier's (`Self::provider`
    /// carries nothing; the handler pays `verifier_fee` to the verifier). The provider was
    /// paid at the pass (not counted here).
    pub fn uphold_challenge(job: &Job) -> Result<Self> {
        let verifier_at_fault = job.verifier.is_some() && !job.verifier_keeps_fee();
        let verifier_bond = if verifier_at_fault {
            job.verifier_bond
        } else {
            0
        };
        let slashed = job
            .collateral
            .checked_add(verifier_bond)
            .ok_or(MarketError::Overflow)?;
        let split = SlashSplit::new(
            slashed,
            job.params.finder_fee_bps,
            job.params.treasury_slash_bps,
        )?;
        let fee_refund = if job.verifier_keeps_fee() {
            0
        } else {
            job.verifier_fee
        };
        Ok(Self {
            provider: 0,
            verifier: split.finder,
            treasury: split.treasury,
            buyer: split
                .victim
                .checked_add(fee_refund)
                .ok_or(MarketError::Overflow)?,
        })
    }

    /// A draw lapsed (see `lapse_draw`): the provider's collateral and `bonds_slashed` of
    /// the other parties' bonds were slashed into the vault, with no finder; the buyer gets
    /// what the vault held for it (the price, or after a pass the verifier's fee) and the
    /// slashed stake but the treasury's share.
    pub fn lapse(job: &Job, bonds_slashed: u64) -> Result<Self> {
        let slashed = job
            .collateral
            .checked_add(bonds_slashed)
            .ok_or(MarketError::Overflow)?;
        let split = SlashSplit::new(slashed, 0, job.params.treasury_slash_bps)?;
        let held = if job.state == crate::state::JobState::PassChallenged {
            job.verifier_fee
        } else {
            job.price
        };
        Ok(Self {
            provider: 0,
            verifier: 0,
            treasury: split.treasury,
            buyer: held
                .checked_add(split.victim)
                .ok_or(MarketError::Overflow)?,
        })
    }

    pub fn total(&self) -> Result<u64> {
        self.provider
            .checked_add(self.verifier)
            .and_then(|s| s.checked_add(self.treasury))
            .and_then(|s| s.checked_add(self.buyer))
            .ok_or_else(|| error!(MarketError::Overflow))
    }
}
