//! Typed instruction builders for assay-stake and assay-market.
//!
//! Each builder fills the program's generated `accounts::*` struct (so account order and
//! writability come from the program itself) and its `instruction::*` data struct.
//! Token accounts of people are their associated token accounts; the treasury is the
//! market's treasury vault PDA.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{InstructionData, ToAccountMetas};
use assay_market::instructions::{
    ChallengeAvailabilityArgs, ChallengePassArgs, CommitResultArgs, ConfigArgs, FaultEvidence,
    PostJobArgs, ReportFaultArgs, WithdrawTreasuryArgs,
};
use assay_market::state::{Crank, Job, MarketParams};
use assay_stake::instructions::{
    DepositArgs, InitializeArgs, RegisterOperatorArgs, RequestUnstakeArgs, SetCapabilitiesArgs,
    UpdateConfigArgs,
};
use solana_sdk::instruction::Instruction;

use crate::pda;

fn instruction(
    program_id: Pubkey,
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
) -> Instruction {
    Instruction {
        program_id,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `ix` with the Operator accounts of `authorities` appended (read-only): the remaining
/// accounts a draw reads excluded registry slots from.
fn with_operators(mut ix: Instruction, authorities: &[Pubkey]) -> Instruction {
    ix.accounts.extend(
        authorities
            .iter()
            .map(|a| solana_sdk::instruction::AccountMeta::new_readonly(pda::operator(a), false)),
    );
    ix
}

fn system_program() -> Pubkey {
    anchor_lang::system_program::ID
}

/// A job instruction needs a party the job does not have (yet, or any more): built from
/// a stale or wrong copy of the job, it would name the all-zero key and fail on chain
/// with an unrelated constraint error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job in state {state:?} has no {role}: this instruction needs one (re-read the job?)")]
pub struct MissingParty {
    pub role: &'static str,
    pub state: assay_market::state::JobState,
}

/// The job's `role`, which the instruction being built needs.
fn required(party: Option<Pubkey>, role: &'static str, job: &Job) -> Result<Pubkey, MissingParty> {
    party.ok_or(MissingParty {
        role,
        state: job.state,
    })
}

/// The operator account and stake vault of `authority` (`StakedParty`).
fn staked_party(authority: &Pubkey) -> assay_market::accounts::StakedParty {
    let operator = pda::operator(authority);
    assay_market::accounts::StakedParty {
        operator,
        vault: pda::stake_vault(&operator),
    }
}

/// The facts of one Assay deployment every builder needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deployment {
    /// The payment and stake mint.
    pub mint: Pubkey,
    /// SPL Token or Token-2022 program that owns `mint`.
    pub token_program: Pubkey,
    /// The treasury vault PDA ([`pda::treasury`]).
    pub treasury: Pubkey,
}

impl Deployment {
    /// `owner`'s associated token account for the deployment's mint.
    pub fn token_account(&self, owner: &Pubkey) -> Pubkey {
        pda::token_account(owner, &self.mint, &self.token_program)
    }

    /// Mints `amount` base units to `owner`'s associated token account (created if
    /// missing, paid by `authority`). `authority` must be the mint authority.
    pub fn mint_to(&self, authority: &Pubkey, owner: &Pubkey, amount: u64) -> Vec<Instruction> {
        let mut ixs = vec![self.create_token_account(authority, owner)];
        if amount > 0 {
            ixs.push(
                anchor_spl::token_2022::spl_token_2022::instruction::mint_to(
                    &self.token_program,
                    &self.mint,
                    &self.token_account(owner),
                    authority,
                    &[],
                    amount,
                )
                .expect("mint_to accepts SPL Token and Token-2022"),
            );
        }
        ixs
    }

    /// Moves `amount` base units from `from`'s associated token account to `to`'s (which
    /// must exist), signed by `from`; `decimals` are the mint's.
    pub fn transfer_tokens(
        &self,
        from: &Pubkey,
        to: &Pubkey,
        amount: u64,
        decimals: u8,
    ) -> Instruction {
        anchor_spl::token_2022::spl_token_2022::instruction::transfer_checked(
            &self.token_program,
            &self.token_account(from),
            &self.mint,
            &self.token_account(to),
            from,
            &[],
            amount,
            decimals,
        )
        .expect("transfer_checked accepts SPL Token and Token-2022")
    }

    /// Creates `owner`'s associated token account if it does not exist (idempotent).
    pub fn create_token_account(&self, payer: &Pubkey, owner: &Pubkey) -> Instruction {
        anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
            payer,
            owner,
            &self.mint,
            &self.token_program,
        )
    }

    /// The accounts every job exit takes (`TerminalEscrow`).
    fn terminal_escrow(
        &self,
        job: &Pubkey,
        buyer: &Pubkey,
    ) -> assay_market::accounts::TerminalEscrow {
        assay_market::accounts::TerminalEscrow {
            job: *job,
            buyer: *buyer,
            vault: pda::job_vault(job),
            buyer_token: self.token_account(buyer),
            mint: self.mint,
            token_program: self.token_program,
        }
    }

    /// The accounts of an instruction that pays from a job's vault and leaves it open.
    fn open_escrow(&self, job: &Pubkey) -> assay_market::accounts::OpenEscrow {
        assay_market::accounts::OpenEscrow {
            job: *job,
            vault: pda::job_vault(job),
            mint: self.mint,
            token_program: self.token_program,
        }
    }

    /// The provider and verifier (none for an unaudited pass) a pass keeps at stake
    /// (`PassParties`).
    fn pass_parties(&self, job: &Job) -> Result<assay_market::accounts::PassParties, MissingParty> {
        Ok(assay_market::accounts::PassParties {
            provider_operator: pda::operator(&required(job.provider, "provider", job)?),
            verifier_operator: job.verifier.as_ref().map(pda::operator),
            stake: self.stake_accounts(),
        })
    }

    fn stake_accounts(&self) -> assay_market::accounts::StakeAccounts {
        assay_market::accounts::StakeAccounts {
            stake_program: assay_stake::ID,
            stake_config: pda::stake_config(),
            registry: pda::verifier_registry(),
            market_authority: pda::market_authority(),
            stake_event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
        }
    }

    // ---- assay-stake ----

    pub fn stake_initialize(&self, admin: &Pubkey, args: InitializeArgs) -> Instruction {
        instruction(
            assay_stake::ID,
            assay_stake::accounts::Initialize {
                admin: *admin,
                mint: self.mint,
                config: pda::stake_config(),
                registry: pda::verifier_registry(),
                system_program: system_program(),
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::Initialize { args },
        )
    }

    pub fn stake_update_config(&self, admin: &Pubkey, args: UpdateConfigArgs) -> Instruction {
        instruction(
            assay_stake::ID,
            assay_stake::accounts::UpdateConfig {
                admin: *admin,
                config: pda::stake_config(),
                registry: pda::verifier_registry(),
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::UpdateConfig { args },
        )
    }

    /// Registers `authority` as an operator with `roles` (`ROLE_PROVIDER | ROLE_VERIFIER`)
    /// declaring no optional capability: as a verifier it is drawn for portable jobs only
    /// ([`Self::register_operator_with_capabilities`] declares more).
    pub fn register_operator(&self, authority: &Pubkey, roles: u8) -> Instruction {
        self.register_operator_with_capabilities(authority, roles, 0)
    }

    /// Registers `authority` as an operator with `roles` whose adapter can run
    /// `capabilities` (`assay_protocol::capability` bits).
    pub fn register_operator_with_capabilities(
        &self,
        authority: &Pubkey,
        roles: u8,
        capabilities: u8,
    ) -> Instruction {
        let operator = pda::operator(authority);
        instruction(
            assay_stake::ID,
            assay_stake::accounts::RegisterOperator {
                authority: *authority,
                config: pda::stake_config(),
                operator,
                vault: pda::stake_vault(&operator),
                mint: self.mint,
                token_program: self.token_program,
                system_program: system_program(),
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::RegisterOperator {
                args: RegisterOperatorArgs {
                    roles,
                    capabilities,
                },
            },
        )
    }

    /// Declares what `authority`'s adapter can run from the next draw epoch on.
    pub fn set_capabilities(&self, authority: &Pubkey, capabilities: u8) -> Instruction {
        instruction(
            assay_stake::ID,
            assay_stake::accounts::SetCapabilities {
                authority: *authority,
                config: pda::stake_config(),
                registry: pda::verifier_registry(),
                operator: pda::operator(authority),
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::SetCapabilities {
                args: SetCapabilitiesArgs { capabilities },
            },
        )
    }

    /// Stakes `amount` base units from `authority`'s token account.
    pub fn deposit(&self, authority: &Pubkey, amount: u64) -> Instruction {
        let operator = pda::operator(authority);
        instruction(
            assay_stake::ID,
            assay_stake::accounts::Deposit {
                authority: *authority,
                config: pda::stake_config(),
                registry: pda::verifier_registry(),
                operator,
                vault: pda::stake_vault(&operator),
                source: self.token_account(authority),
                mint: self.mint,
                token_program: self.token_program,
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::Deposit {
                args: DepositArgs { amount },
            },
        )
    }

    pub fn request_unstake(&self, authority: &Pubkey, amount: u64) -> Instruction {
        instruction(
            assay_stake::ID,
            assay_stake::accounts::RequestUnstake {
                authority: *authority,
                config: pda::stake_config(),
                registry: pda::verifier_registry(),
                operator: pda::operator(authority),
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::RequestUnstake {
                args: RequestUnstakeArgs { amount },
            },
        )
    }

    /// Anyone: re-reads `authority`'s operator against the current verifier minimum.
    pub fn sync_verifier(&self, authority: &Pubkey) -> Instruction {
        instruction(
            assay_stake::ID,
            assay_stake::accounts::SyncVerifier {
                config: pda::stake_config(),
                registry: pda::verifier_registry(),
                operator: pda::operator(authority),
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::SyncVerifier {},
        )
    }

    pub fn withdraw(&self, authority: &Pubkey) -> Instruction {
        let operator = pda::operator(authority);
        instruction(
            assay_stake::ID,
            assay_stake::accounts::Withdraw {
                authority: *authority,
                config: pda::stake_config(),
                operator,
                vault: pda::stake_vault(&operator),
                destination: self.token_account(authority),
                mint: self.mint,
                token_program: self.token_program,
                event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_stake::ID,
            },
            assay_stake::instruction::Withdraw {},
        )
    }

    // ---- assay-market ----

    pub fn initialize_config(&self, admin: &Pubkey, params: MarketParams) -> Instruction {
        instruction(
            assay_market::ID,
            assay_market::accounts::InitializeConfig {
                admin: *admin,
                config: pda::market_config(),
                treasury: pda::treasury(),
                mint: self.mint,
                stake_config: pda::stake_config(),
                registry: pda::verifier_registry(),
                token_program: self.token_program,
                system_program: system_program(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::InitializeConfig {
                args: ConfigArgs { params },
            },
        )
    }

    pub fn update_config(&self, admin: &Pubkey, params: MarketParams) -> Instruction {
        instruction(
            assay_market::ID,
            assay_market::accounts::UpdateConfig {
                admin: *admin,
                config: pda::market_config(),
                stake_config: pda::stake_config(),
                registry: pda::verifier_registry(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::UpdateConfig {
                args: ConfigArgs { params },
            },
        )
    }

    /// The admin moves `amount` out of the treasury vault to `destination`.
    pub fn withdraw_treasury(
        &self,
        admin: &Pubkey,
        destination: &Pubkey,
        amount: u64,
    ) -> Instruction {
        instruction(
            assay_market::ID,
            assay_market::accounts::WithdrawTreasury {
                admin: *admin,
                config: pda::market_config(),
                treasury: pda::treasury(),
                destination: *destination,
                mint: self.mint,
                token_program: self.token_program,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::WithdrawTreasury {
                args: WithdrawTreasuryArgs { amount },
            },
        )
    }

    /// Posts a job and escrows `args.price` from the buyer's token account.
    pub fn post_job(&self, buyer: &Pubkey, args: PostJobArgs) -> Instruction {
        let job = pda::job(buyer, args.job_id);
        instruction(
            assay_market::ID,
            assay_market::accounts::PostJob {
                buyer: *buyer,
                config: pda::market_config(),
                job,
                vault: pda::job_vault(&job),
                buyer_token: self.token_account(buyer),
                mint: self.mint,
                registry: pda::verifier_registry(),
                token_program: self.token_program,
                system_program: system_program(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::PostJob { args },
        )
    }

    pub fn cancel_job(&self, buyer: &Pubkey, job_id: u64) -> Instruction {
        let job = pda::job(buyer, job_id);
        instruction(
            assay_market::ID,
            assay_market::accounts::CancelJob {
                escrow: self.terminal_escrow(&job, buyer),
                buyer: *buyer,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::CancelJob {},
        )
    }

    pub fn claim_job(&self, provider: &Pubkey, job: &Pubkey) -> Instruction {
        instruction(
            assay_market::ID,
            assay_market::accounts::ClaimJob {
                provider: *provider,
                job: *job,
                provider_operator: pda::operator(provider),
                stake: self.stake_accounts(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::ClaimJob {},
        )
    }

    pub fn commit_result(
        &self,
        provider: &Pubkey,
        job: &Pubkey,
        result_root: [u8; 32],
        output_uri: String,
    ) -> Instruction {
        instruction(
            assay_market::ID,
            assay_market::accounts::CommitResult {
                provider: *provider,
                job: *job,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::CommitResult {
                args: CommitResultArgs {
                    result_root,
                    output_uri,
                },
            },
        )
    }

    /// `drawn_verifier`: the authority the draw will pick (`Chain::predict_draw`).
    /// Draws `job`'s pending verifier within its draw window; anyone may send it. It
    /// carries the drawn verifier's operator and vault with the treasury, mint and token
    /// program (where a verifier that forfeits pays its penalty), and the Operator
    /// accounts of the provider and the job's earlier verifiers, whose registry slots the
    /// draw excludes.
    pub fn draw_challenge(
        &self,
        job_key: &Pubkey,
        job: &Job,
        drawn_verifier: Option<&Pubkey>,
    ) -> Instruction {
        with_operators(
            instruction(
                assay_market::ID,
                assay_market::accounts::DrawChallenge {
                    job: *job_key,
                    slot_hashes: solana_sdk::sysvar::slot_hashes::ID,
                    verifier_operator: drawn_verifier.map(pda::operator),
                    verifier_vault: drawn_verifier.map(|v| pda::stake_vault(&pda::operator(v))),
                    treasury: drawn_verifier.map(|_| job.treasury),
                    mint: drawn_verifier.map(|_| self.mint),
                    token_program: drawn_verifier.map(|_| self.token_program),
                    stake: self.stake_accounts(),
                    event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                    program: assay_market::ID,
                },
                assay_market::instruction::DrawChallenge {},
            ),
            &job.verifier_draw_excludes(),
        )
    }

    pub fn attest_pass(
        &self,
        verifier: &Pubkey,
        job_key: &Pubkey,
        job: &Job,
    ) -> Result<Instruction, MissingParty> {
        let provider = required(job.provider, "provider", job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::AttestPass {
                verifier: *verifier,
                escrow: self.open_escrow(job_key),
                provider_token: self.token_account(&provider),
                treasury: job.treasury,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::AttestPass {},
        ))
    }

    /// Closes a pass whose window has ended (anyone may send it): pays the verifier its
    /// fee (the buyer, for an unaudited pass) and unlocks both stakes.
    pub fn close_pass(&self, job_key: &Pubkey, job: &Job) -> Result<Instruction, MissingParty> {
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::ClosePass {
                escrow: self.terminal_escrow(job_key, &job.buyer),
                verifier_token: job.verifier.as_ref().map(|v| self.token_account(v)),
                parties: self.pass_parties(job)?,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::ClosePass {},
        ))
    }

    /// `challenger` challenges `job`'s pass with a sampled chunk's committed leaf (and its
    /// proof) and the leaf it recomputed.
    pub fn challenge_pass(
        &self,
        challenger: &Pubkey,
        job_key: &Pubkey,
        job: &Job,
        args: ChallengePassArgs,
    ) -> Instruction {
        self.pass_challenge(
            challenger,
            job_key,
            job,
            assay_market::instruction::ChallengePass { args },
        )
    }

    /// `challenger` calls chunk `chunk_index` of `job`'s output unavailable within its
    /// pass window (any chunk, sampled or not).
    pub fn challenge_availability(
        &self,
        challenger: &Pubkey,
        job_key: &Pubkey,
        job: &Job,
        chunk_index: u32,
    ) -> Instruction {
        let args = ChallengeAvailabilityArgs { chunk_index };
        self.pass_challenge(
            challenger,
            job_key,
            job,
            assay_market::instruction::ChallengeAvailability { args },
        )
    }

    /// The accounts both challenges of a pass take, with `data`: the challenger's
    /// operator and the stake accounts, then the provider's and the verifier's Operator
    /// accounts (the committee excludes both).
    fn pass_challenge(
        &self,
        challenger: &Pubkey,
        job_key: &Pubkey,
        job: &Job,
        data: impl InstructionData,
    ) -> Instruction {
        let parties: Vec<Pubkey> = job.provider.into_iter().chain(job.verifier).collect();
        let accounts = assay_market::accounts::ChallengePass {
            challenger: *challenger,
            job: *job_key,
            challenger_operator: pda::operator(challenger),
            stake: self.stake_accounts(),
            event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
            program: assay_market::ID,
        };
        with_operators(instruction(assay_market::ID, accounts, data), &parties)
    }

    /// Must follow, in the same transaction, the Ed25519 instruction carrying votes whose
    /// majority upholds the challenge.
    pub fn uphold_challenge(
        &self,
        job_key: &Pubkey,
        job: &Job,
    ) -> Result<Instruction, MissingParty> {
        let challenger = required(job.accuser, "challenger", job)?;
        let parties = self.pass_parties(job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::UpholdChallenge {
                escrow: self.terminal_escrow(job_key, &job.buyer),
                challenger_token: self.token_account(&challenger),
                treasury: job.treasury,
                verifier_token: job
                    .verifier
                    .filter(|_| job.verifier_keeps_fee())
                    .map(|v| self.token_account(&v)),
                provider_operator_vault: pda::stake_vault(&parties.provider_operator),
                verifier_operator_vault: parties.verifier_operator.as_ref().map(pda::stake_vault),
                parties,
                challenger_operator: pda::operator(&challenger),
                instructions_sysvar: solana_sdk::sysvar::instructions::ID,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::UpholdChallenge {},
        ))
    }

    /// Must follow, in the same transaction, the Ed25519 instruction carrying votes whose
    /// majority overturns the challenge.
    pub fn overturn_challenge(
        &self,
        job_key: &Pubkey,
        job: &Job,
    ) -> Result<Instruction, MissingParty> {
        let challenger = required(job.accuser, "challenger", job)?;
        let defender = required(job.verifier.or(job.provider), "provider", job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::OverturnChallenge {
                escrow: self.open_escrow(job_key),
                defender_token: self.token_account(&defender),
                treasury: job.treasury,
                challenger: staked_party(&challenger),
                stake: self.stake_accounts(),
                instructions_sysvar: solana_sdk::sysvar::instructions::ID,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::OverturnChallenge {},
        ))
    }

    /// Voids a challenge whose vote window passed without a majority (anyone may send
    /// it): the challenger pays the miss penalty.
    pub fn void_challenge(&self, job_key: &Pubkey, job: &Job) -> Result<Instruction, MissingParty> {
        let challenger = required(job.accuser, "challenger", job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::VoidChallenge {
                job: *job_key,
                challenger: staked_party(&challenger),
                treasury: job.treasury,
                mint: self.mint,
                token_program: self.token_program,
                stake: self.stake_accounts(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::VoidChallenge {},
        ))
    }

    pub fn report_fault(
        &self,
        verifier: &Pubkey,
        job: &Pubkey,
        chunk_index: u32,
        evidence: FaultEvidence,
    ) -> Instruction {
        instruction(
            assay_market::ID,
            assay_market::accounts::ReportFault {
                verifier: *verifier,
                job: *job,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::ReportFault {
                args: ReportFaultArgs {
                    chunk_index,
                    evidence,
                },
            },
        )
    }

    /// `next_verifier`: the authority the round + 1 draw will pick, if any.
    pub fn advance_round(&self, job_key: &Pubkey, job: &Job) -> Result<Instruction, MissingParty> {
        let missed = required(job.verifier, "verifier", job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::AdvanceRound {
                job: *job_key,
                missed_verifier: staked_party(&missed),
                treasury: job.treasury,
                stake: self.stake_accounts(),
                mint: self.mint,
                token_program: self.token_program,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::AdvanceRound {},
        ))
    }

    pub fn finalize(&self, job_key: &Pubkey, job: &Job) -> Result<Instruction, MissingParty> {
        let provider = required(job.provider, "provider", job)?;
        let missed = job.verifier.as_ref().map(pda::operator);
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::Finalize {
                escrow: self.open_escrow(job_key),
                provider_token: self.token_account(&provider),
                treasury: job.treasury,
                missed_operator: missed,
                missed_operator_vault: missed.as_ref().map(pda::stake_vault),
                stake: self.stake_accounts(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::Finalize {},
        ))
    }

    /// `caller`: the provider (any time) or anyone (after the dispute window).
    pub fn concede_fault(
        &self,
        caller: &Pubkey,
        job_key: &Pubkey,
        job: &Job,
    ) -> Result<Instruction, MissingParty> {
        let provider = required(job.provider, "provider", job)?;
        let accuser = required(job.accuser, "accuser", job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::ConcedeFault {
                caller: *caller,
                escrow: self.terminal_escrow(job_key, &job.buyer),
                accuser_token: self.token_account(&accuser),
                treasury: job.treasury,
                provider: staked_party(&provider),
                accuser_operator: pda::operator(&accuser),
                stake: self.stake_accounts(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::ConcedeFault {},
        ))
    }

    /// The provider contests `job`'s fault; carries the Operator accounts of the parties
    /// the committee excludes (the provider and the accusing verifier).
    pub fn contest_fault(&self, provider: &Pubkey, job_key: &Pubkey, job: &Job) -> Instruction {
        with_operators(
            instruction(
                assay_market::ID,
                assay_market::accounts::ContestFault {
                    provider: *provider,
                    job: *job_key,
                    registry: pda::verifier_registry(),
                    event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                    program: assay_market::ID,
                },
                assay_market::instruction::ContestFault {},
            ),
            &job.committee_draw_excludes(),
        )
    }

    /// Draws a contest's committee within its draw window; anyone may send it. Carries
    /// the Operator accounts of the parties the committee excludes, then those of the
    /// `seats` the draw picks (`Chain::predict_committee`): the registry names slots, and
    /// the program reads each seat's key from the Operator holding it.
    pub fn draw_committee(&self, job_key: &Pubkey, job: &Job, seats: &[Pubkey]) -> Instruction {
        let mut operators = job.committee_draw_excludes();
        operators.extend_from_slice(seats);
        with_operators(
            instruction(
                assay_market::ID,
                assay_market::accounts::DrawCommittee {
                    job: *job_key,
                    slot_hashes: solana_sdk::sysvar::slot_hashes::ID,
                    registry: pda::verifier_registry(),
                    event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                    program: assay_market::ID,
                },
                assay_market::instruction::DrawCommittee {},
            ),
            &operators,
        )
    }

    /// Grows the verifier registry by one step toward its full size (`payer` pays rent).
    pub fn grow_registry(&self, payer: &Pubkey) -> Instruction {
        instruction(
            assay_stake::ID,
            assay_stake::accounts::GrowRegistry {
                payer: *payer,
                registry: pda::verifier_registry(),
                system_program: system_program(),
            },
            assay_stake::instruction::GrowRegistry {},
        )
    }

    /// The instruction of `crank`, the exit the job's crank table names ([`Job::due`]),
    /// sent by `caller`: one mapping for every driver. A draw names whom it will pick
    /// (`drawn`, from the registry and the Operator accounts): a verifier round's draw the
    /// verifier (`Chain::predict_draw`; none when nobody is eligible), a committee draw
    /// its seats (`Chain::predict_committee`); every other crank ignores it.
    pub fn crank(
        &self,
        crank: Crank,
        caller: &Pubkey,
        job_key: &Pubkey,
        job: &Job,
        drawn: &[Pubkey],
    ) -> Result<Instruction, MissingParty> {
        match crank {
            Crank::ExpireJob => Ok(self.expire_job(job_key, job)),
            Crank::DrawChallenge => Ok(self.draw_challenge(job_key, job, drawn.first())),
            Crank::DrawCommittee => Ok(self.draw_committee(job_key, job, drawn)),
            Crank::LapseDraw => self.lapse_draw(job_key, job),
            Crank::AdvanceRound => self.advance_round(job_key, job),
            Crank::Finalize => self.finalize(job_key, job),
            Crank::ConcedeFault => self.concede_fault(caller, job_key, job),
            Crank::VoidContest => self.void_contest(job_key, job),
            Crank::VoidChallenge => self.void_challenge(job_key, job),
            Crank::ClosePass => self.close_pass(job_key, job),
        }
    }

    /// Must follow, in the same transaction, the Ed25519 instruction carrying the votes
    /// (see [`vote_instruction`]).
    pub fn resolve_contest(
        &self,
        job_key: &Pubkey,
        job: &Job,
    ) -> Result<Instruction, MissingParty> {
        let provider = required(job.provider, "provider", job)?;
        let accuser = required(job.accuser, "accuser", job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::ResolveContest {
                escrow: self.terminal_escrow(job_key, &job.buyer),
                provider_token: self.token_account(&provider),
                accuser_token: self.token_account(&accuser),
                treasury: job.treasury,
                provider: staked_party(&provider),
                accuser: staked_party(&accuser),
                stake: self.stake_accounts(),
                instructions_sysvar: solana_sdk::sysvar::instructions::ID,
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::ResolveContest {},
        ))
    }

    /// Voids a contest whose vote window passed without a majority (anyone may send it):
    /// the buyer is refunded, the provider pays the miss penalty.
    pub fn void_contest(&self, job_key: &Pubkey, job: &Job) -> Result<Instruction, MissingParty> {
        let provider = required(job.provider, "provider", job)?;
        let accuser = required(job.accuser, "accuser", job)?;
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::VoidContest {
                escrow: self.terminal_escrow(job_key, &job.buyer),
                provider: staked_party(&provider),
                treasury: job.treasury,
                accuser_operator: pda::operator(&accuser),
                stake: self.stake_accounts(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::VoidContest {},
        ))
    }

    /// Ends a job whose pending draw (a verifier round's, or a committee's) was not made
    /// within its draw window (anyone may send it): every party of the draw is slashed as
    /// in its worst outcome, the buyer refunded and compensated.
    pub fn lapse_draw(&self, job_key: &Pubkey, job: &Job) -> Result<Instruction, MissingParty> {
        use assay_market::state::JobState;
        let provider = required(job.provider, "provider", job)?;
        let accuser_operator = job.accuser.as_ref().map(pda::operator);
        let verifier_operator = match job.state {
            JobState::PassChallenged => job.verifier.as_ref().map(pda::operator),
            _ => None,
        };
        Ok(instruction(
            assay_market::ID,
            assay_market::accounts::LapseDraw {
                escrow: self.terminal_escrow(job_key, &job.buyer),
                treasury: job.treasury,
                provider: staked_party(&provider),
                accuser_operator,
                accuser_operator_vault: accuser_operator.as_ref().map(pda::stake_vault),
                verifier_operator,
                verifier_operator_vault: verifier_operator.as_ref().map(pda::stake_vault),
                stake: self.stake_accounts(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::LapseDraw {},
        ))
    }

    pub fn expire_job(&self, job_key: &Pubkey, job: &Job) -> Instruction {
        let provider_operator = job.provider.as_ref().map(pda::operator);
        instruction(
            assay_market::ID,
            assay_market::accounts::ExpireJob {
                escrow: self.terminal_escrow(job_key, &job.buyer),
                treasury: job.treasury,
                provider_operator,
                provider_operator_vault: provider_operator.as_ref().map(pda::stake_vault),
                stake: self.stake_accounts(),
                event_authority: assay_market::EVENT_AUTHORITY_AND_BUMP.0,
                program: assay_market::ID,
            },
            assay_market::instruction::ExpireJob {},
        )
    }
}

/// The attestation a committee member signs to vote `verdict` (UpholdFault or
/// OverturnFault) on the contest now open on `job` (a contested fault or a challenged
/// pass): this program, the job, its instance, the contest's number and the evidence
/// under judgement.
pub fn vote_message(
    job_key: &Pubkey,
    job: &Job,
    verdict: assay_protocol::Verdict,
) -> assay_protocol::AttestationMessage {
    assay_protocol::AttestationMessage {
        program_id: assay_market::ID.to_bytes(),
        job: job_key.to_bytes(),
        instance: job.instance,
        contest: job.contests,
        verdict,
        evidence_hash: job.fault_evidence,
    }
}

/// One Ed25519 precompile instruction carrying every committee vote, each signature,
/// key and message stored inside the instruction itself (index `u16::MAX`), the only
/// layout `resolve_contest` accepts.
pub fn vote_instruction(
    votes: &[(
        ed25519_dalek::SigningKey,
        assay_protocol::AttestationMessage,
    )],
) -> Instruction {
    use ed25519_dalek::Signer as _;
    let signed: Vec<SignedVote> = votes
        .iter()
        .map(|(key, message)| SignedVote {
            member: key.verifying_key().to_bytes(),
            signature: key.sign(&message.to_bytes()).to_bytes(),
            message: *message,
        })
        .collect();
    signed_vote_instruction(&signed)
}

/// A committee member's vote, already signed.
#[derive(Debug, Clone)]
pub struct SignedVote {
    /// The member's ed25519 public key (its operator authority).
    pub member: [u8; 32],
    pub signature: [u8; 64],
    pub message: assay_protocol::AttestationMessage,
}

/// [`vote_instruction`] for votes signed elsewhere (a relayer holds no secret keys).
pub fn signed_vote_instruction(votes: &[SignedVote]) -> Instruction {
    const HEADER: usize = 2;
    const OFFSETS: usize = 14;
    let mut data = vec![votes.len() as u8, 0];
    data.resize(HEADER + OFFSETS * votes.len(), 0);
    // Votes for the same verdict sign the same message: it is stored once and every such
    // signature points at it (224 bytes per further vote become 110), so a majority's
    // votes fit a transaction sooner.
    let mut messages: Vec<([u8; assay_protocol::ATTESTATION_MESSAGE_LEN], usize)> = vec![];
    for (i, vote) in votes.iter().enumerate() {
        let message = vote.message.to_bytes();
        let pubkey_offset = data.len();
        data.extend_from_slice(&vote.member);
        let signature_offset = data.len();
        data.extend_from_slice(&vote.signature);
        let message_offset = match messages.iter().find(|(bytes, _)| *bytes == message) {
            Some(&(_, offset)) => offset,
            None => {
                messages.push((message, data.len()));
                data.extend_from_slice(&message);
                data.len() - message.len()
            }
        };
        let record = HEADER + i * OFFSETS;
        for (j, value) in [
            signature_offset as u16,
            u16::MAX,
            pubkey_offset as u16,
            u16::MAX,
            message_offset as u16,
            message.len() as u16,
            u16::MAX,
        ]
        .into_iter()
        .enumerate()
        {
            data[record + 2 * j..record + 2 * j + 2].copy_from_slice(&value.to_le_bytes());
        }
    }
    Instruction {
        program_id: solana_sdk::ed25519_program::ID,
        accounts: vec![],
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_protocol::{AttestationMessage, Verdict, ATTESTATION_MESSAGE_LEN};
    use ed25519_dalek::{Signature as DalekSignature, SigningKey, Verifier, VerifyingKey};

    fn message(verdict: Verdict) -> AttestationMessage {
        AttestationMessage {
            program_id: assay_market::ID.to_bytes(),
            job: [7; 32],
            instance: 42,
            contest: 1,
            verdict,
            evidence_hash: [9; 32],
        }
    }

    /// Reads entry `i` of an Ed25519 instruction as the precompile does: (key, signature,
    /// message) at the offsets its record names.
    fn entry(data: &[u8], i: usize) -> ([u8; 32], [u8; 64], Vec<u8>) {
        let at = 2 + 14 * i;
        let u16_at = |o: usize| usize::from(u16::from_le_bytes([data[at + o], data[at + o + 1]]));
        let (sig, key, msg, len) = (u16_at(0), u16_at(4), u16_at(8), u16_at(10));
        (
            data[key..key + 32].try_into().unwrap(),
            data[sig..sig + 64].try_into().unwrap(),
            data[msg..msg + len].to_vec(),
        )
    }

    /// A job account as read, all fields default (no provider, verifier or accuser).
    fn partyless_job(state: assay_market::state::JobState) -> Job {
        let mut data = <Job as anchor_lang::Discriminator>::DISCRIMINATOR.to_vec();
        data.resize(Job::SIZE, 0);
        let mut job =
            <Job as anchor_lang::AccountDeserialize>::try_deserialize(&mut data.as_slice())
                .unwrap();
        job.state = state;
        job
    }

    /// A builder given a job without the party it names says which party is missing,
    /// instead of naming the all-zero key and failing on chain with an unrelated error.
    #[test]
    fn an_exit_for_a_job_without_its_party_is_refused_with_the_party_named() {
        use assay_market::state::JobState;
        let d = Deployment {
            mint: Pubkey::new_unique(),
            token_program: anchor_spl::token::ID,
            treasury: Pubkey::new_unique(),
        };
        let key = Pubkey::new_unique();
        let open = partyless_job(JobState::Open);
        let missing = |role| MissingParty {
            role,
            state: JobState::Open,
        };
        assert_eq!(d.close_pass(&key, &open).unwrap_err(), missing("provider"));
        assert_eq!(d.finalize(&key, &open).unwrap_err(), missing("provider"));
        assert_eq!(
            d.advance_round(&key, &open).unwrap_err(),
            missing("verifier")
        );
        assert_eq!(
            d.void_challenge(&key, &open).unwrap_err(),
            missing("challenger")
        );
        let caller = Pubkey::new_unique();
        assert_eq!(
            d.crank(Crank::ConcedeFault, &caller, &key, &open, &[])
                .unwrap_err(),
            missing("provider")
        );
        let mut claimed = partyless_job(JobState::Disputed);
        claimed.provider = Some(Pubkey::new_unique());
        let err = d.resolve_contest(&key, &claimed).unwrap_err();
        assert_eq!(err.role, "accuser");
        assert!(err.to_string().contains("has no accuser"), "{err}");
        // With every party present the same builders succeed.
        claimed.accuser = Some(Pubkey::new_unique());
        assert!(d.resolve_contest(&key, &claimed).is_ok());
        assert!(d.expire_job(&key, &open).accounts.len() > 1);
    }

    #[test]
    fn votes_for_one_verdict_store_their_message_once_and_each_signature_still_verifies() {
        let keys: Vec<SigningKey> = (1..=4u8)
            .map(|b| SigningKey::from_bytes(&[b; 32]))
            .collect();
        let verdicts = [
            Verdict::UpholdFault,
            Verdict::UpholdFault,
            Verdict::UpholdFault,
            Verdict::OverturnFault,
        ];
        let votes: Vec<_> = keys
            .iter()
            .zip(verdicts)
            .map(|(k, v)| (k.clone(), message(v)))
            .collect();
        let ix = vote_instruction(&votes);
        // Header, 4 offset records, 4 × (key + signature), 2 distinct messages.
        assert_eq!(
            ix.data.len(),
            2 + 4 * 14 + 4 * (32 + 64) + 2 * ATTESTATION_MESSAGE_LEN
        );
        for (i, (key, vote)) in votes.iter().enumerate() {
            let (signer, signature, signed) = entry(&ix.data, i);
            assert_eq!(signer, key.verifying_key().to_bytes());
            assert_eq!(signed, vote.to_bytes());
            VerifyingKey::from_bytes(&signer)
                .unwrap()
                .verify(&signed, &DalekSignature::from_bytes(&signature))
                .expect("the signature verifies over the shared message");
        }
    }
}
