use crate::constants::MARKET_CONFIG;
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};
use assay_protocol::sumtree::Weights;
use assay_stake::constants::REGISTRY;

use assay_stake::create::{create_account, create_token_account, write_account};
use assay_stake::state::VerifierRegistry;

use crate::constants::{JOB_SEED, JOB_VAULT_SEED, MAX_SAMPLES};
use crate::errors::MarketError;
use crate::events::{JobPosted, JobStateChanged};
use crate::state::{
    Job, JobState, JobTerms, MarketConfig, MarketParams, COMPARISON_EXACT, COMPARISON_FLOAT,
};

/// Longest claim or execution window a buyer may set, in slots (~46 days).
pub const MAX_WINDOW_SLOTS: u64 = 10_000_000;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct PostJobArgs {
    /// Buyer-chosen id; the job PDA is `["job", buyer, job_id LE]`.
    pub job_id: u64,
    pub manifest_hash: [u8; 32],
    pub input_root: [u8; 32],
    pub n_chunks: u32,
    /// Chunks the verifier re-executes (k).
    pub samples: u8,
    /// `COMPARISON_EXACT` or `COMPARISON_FLOAT`.
    pub comparison_rule: u8,
    /// Escrowed payment, base units.
    pub price: u64,
    /// Provider stake to lock at claim, base units.
    pub collateral: u64,
    /// Slots from now a provider may claim.
    pub claim_window_slots: u64,
    /// Slots from its claim a provider has to commit.
    pub execution_window_slots: u64,
    /// `assay_protocol::capability` bits the manifest requires of an adapter (the
    /// manifest's own requirements, reduced): only verifiers that cover them are drawn.
    pub needs: u8,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: PostJobArgs)]
pub struct PostJob<'info> {
    #[account(mut)]
    pub buyer: Signer<'info>,
    #[account(mut, address = MARKET_CONFIG)]
    pub config: Box<Account<'info, MarketConfig>>,
    /// CHECK: created here (pre-funding tolerated); the seeds pin the address, and System
    /// refuses to allocate it again while a job lives there.
    #[account(
        mut,
        seeds = [JOB_SEED, buyer.key().as_ref(), &args.job_id.to_le_bytes()],
        bump,
    )]
    pub job: UncheckedAccount<'info>,
    /// CHECK: created here as a token account of `mint` owned by `job`.
    #[account(mut, seeds = [JOB_VAULT_SEED, job.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    #[account(
        mut,
        token::mint = mint,
        token::authority = buyer,
        token::token_program = token_program,
    )]
    pub buyer_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(address = config.mint @ MarketError::WrongMint)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// Read for the stake that can run the job, and the draw epoch length its draws use.
    #[account(address = REGISTRY)]
    pub registry: AccountLoader<'info, VerifierRegistry>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl PostJobArgs {
    /// The rules `post_job` holds its arguments to under `params`, as one function that
    /// clients also call before spending anything (uploads, fees).
    /// Returns the job's terms (fees, bond, collateral floor).
    pub fn check(&self, params: &MarketParams) -> std::result::Result<JobTerms, MarketError> {
        if self.n_chunks == 0 {
            return Err(MarketError::ZeroChunks);
        }
        if self.samples < params.min_samples
            || self.samples > MAX_SAMPLES
            || u32::from(self.samples) > self.n_chunks
        {
            return Err(MarketError::InvalidSampleCount);
        }
        if self.price == 0 {
            return Err(MarketError::ZeroPrice);
        }
        if self.comparison_rule != COMPARISON_EXACT && self.comparison_rule != COMPARISON_FLOAT {
            return Err(MarketError::UnknownComparisonRule);
        }
        if !assay_protocol::capability::is_known(self.needs) {
            return Err(MarketError::UnknownCapability);
        }
        let window = 1..=MAX_WINDOW_SLOTS;
        if !window.contains(&self.claim_window_slots)
            || !window.contains(&self.execution_window_slots)
        {
            return Err(MarketError::InvalidDeadline);
        }
        let terms = JobTerms::of(params, self.price, self.n_chunks, self.samples)?;
        if self.collateral < terms.min_collateral {
            return Err(MarketError::CollateralTooLow);
        }
        Ok(terms)
    }
}

/// Whether some verifier whose capabilities cover `needs` has weight in the draws of
/// `slot`'s epoch or of the next one (the draws of this job come later).
pub fn is_auditable(registry: &VerifierRegistry, needs: u8, slot: u64) -> bool {
    let now = registry
        .weights_at(registry.epoch_of(slot), needs)
        .map_or(0, |weights| weights.total());
    let (_, next) = registry.capable_weight(needs);
    now > 0 || next > 0
}

impl PostJob<'_> {
    fn validate(&self, args: &PostJobArgs) -> Result<()> {
        args.check(&self.config.params)?;
        require!(
            is_auditable(&*self.registry.load()?, args.needs, Clock::get()?.slot),
            MarketError::NoCapableVerifier
        );
        Ok(())
    }
}

/// Specification:
/// - fails with `NoCapableVerifier`, moving nothing, when no verifier whose capabilities
///   cover `needs` has weight now or from the next draw epoch; with `AuditUnaffordable`
///   when the verifier fee (base + sampled share, at least the minimum) and the protocol
///   fee exceed the price; with `CollateralTooLow` below the collateral floor;
/// - the job's verifier fee, protocol fee and verifier bond are its `JobTerms`;
/// - the job account and its vault exist (however many lamports either address held),
///   the job is Open with a snapshot of the config's params and treasury, and its vault
///   holds exactly `price` taken from the buyer.
#[access_control(ctx.accounts.validate(&args))]
pub fn process_post_job(ctx: Context<PostJob>, args: PostJobArgs) -> Result<()> {
    let slot = Clock::get()?.slot;
    let accounts = &ctx.accounts;
    let buyer = accounts.buyer.key();
    let job_key = accounts.job.key();
    let (payer, system) = (
        accounts.buyer.to_account_info(),
        accounts.system_program.to_account_info(),
    );
    let job_info = accounts.job.to_account_info();
    let job_id = args.job_id.to_le_bytes();
    let job_seeds: &[&[u8]] = &[JOB_SEED, buyer.as_ref(), &job_id, &[ctx.bumps.job]];
    create_account(&payer, &job_info, &system, &crate::ID, Job::SIZE, job_seeds)?;
    let vault_seeds: &[&[u8]] = &[JOB_VAULT_SEED, job_key.as_ref(), &[ctx.bumps.vault]];
    create_token_account(
        &payer,
        &accounts.vault.to_account_info(),
        &system,
        &accounts.mint.to_account_info(),
        &job_info,
        &accounts.token_program.to_account_info(),
        vault_seeds,
    )?;
    token_interface::transfer_checked(
        CpiContext::new(
            accounts.token_program.key(),
            TransferChecked {
                from: accounts.buyer_token.to_account_info(),
                mint: accounts.mint.to_account_info(),
                to: accounts.vault.to_account_info(),
                authority: accounts.buyer.to_account_info(),
            },
        ),
        args.price,
        accounts.mint.decimals,
    )?;

    let params = &accounts.config.params;
    let terms = args.check(params)?;
    let epoch_slots = accounts.registry.load()?.epoch_slots;
    let job = Box::new(Job {
        buyer,
        job_id: args.job_id,
        instance: slot,
        state: JobState::Open,
        manifest_hash: args.manifest_hash,
        input_root: args.input_root,
        n_chunks: args.n_chunks,
        samples: args.samples,
        comparison_rule: args.comparison_rule,
        needs: args.needs,
        price: args.price,
        collateral: args.collateral,
        verifier_fee: terms.verifier_fee,
        protocol_fee: terms.protocol_fee,
        verifier_bond: terms.verifier_bond,
        params: params.clone(),
        treasury: accounts.config.treasury,
        claim_deadline_slot: slot
            .checked_add(args.claim_window_slots)
            .ok_or(MarketError::Overflow)?,
        execution_window_slots: args.execution_window_slots,
        commit_deadline_slot: 0,
        provider: None,
        result_root: [0; 32],
        output_uri: String::new(),
        seed_slot: 0,
        seed: [0; 32],
        round: 0,
        verifier: None,
        past_verifiers: Vec::new(),
        step_deadline_slot: 0,
        accuser: None,
        fault_index: 0,
        fault_evidence: [0; 32],
        fault_unavailable: false,
        pass_window_left_slots: 0,
        committee: Vec::new(),
        epoch_slots,
        contests: 0,
        draw_deadline_slot: 0,
        bump: ctx.bumps.job,
        vault_bump: ctx.bumps.vault,
    });
    write_account(&job_info, job.as_ref())?;
    ctx.accounts.config.jobs_posted = ctx
        .accounts
        .config
        .jobs_posted
        .checked_add(1)
        .ok_or(MarketError::Overflow)?;

    emit_cpi!(JobPosted {
        job: job_key,
        buyer,
        job_id: args.job_id,
        price: args.price,
        collateral: args.collateral,
        n_chunks: args.n_chunks,
        samples: args.samples,
        manifest_hash: args.manifest_hash,
    });
    emit_cpi!(JobStateChanged {
        job: job_key,
        from: None,
        to: JobState::Open,
        slot,
    });
    Ok(())
}
