//! The attack matrix: for every instruction, wrong signers, substituted accounts, forged
//! or replayed attestations, malformed proofs, out-of-sample indices and impossible
//! amounts. Each attack must be rejected with the named error listed beside it.

use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use assay_client::ix::vote_instruction;
use assay_client::ix::Deployment;
use assay_client::pda;
use assay_client::Chain;
use assay_market::errors::MarketError as M;
use assay_market::instructions::{ChallengePassArgs, FaultEvidence, PostJobArgs};
use assay_market::state::{Job, MarketParams};
use assay_protocol::{AttestationMessage, MerkleTree, Verdict};
use assay_stake::constants::ROLE_VERIFIER;
use assay_stake::errors::StakeError as S;
use assay_testkit::embedded::{ChainError, LocalSetup};
use assay_tests::mints::{create_extension_mint, mint_cases};
use assay_tests::World;
use solana_sdk::instruction::{Instruction, InstructionError};
use solana_sdk::signature::{Keypair, Signer};
use solana_sdk::transaction::TransactionError;

/// The error an attack must produce.
#[derive(Debug, Clone, PartialEq)]
enum Rejection {
    /// A program error code (Anchor framework, market, stake, SPL Token, System).
    Code(u32, String),
    /// A runtime error that is not a program's custom code.
    Runtime(InstructionError),
}

fn market(e: M) -> Rejection {
    Rejection::Code(6000 + e as u32, format!("MarketError::{e:?}"))
}
fn stake(e: S) -> Rejection {
    Rejection::Code(6000 + e as u32, format!("StakeError::{e:?}"))
}
fn anchor(e: Anchor) -> Rejection {
    Rejection::Code(e as u32, format!("anchor::{e:?}"))
}
/// SPL Token `InsufficientFunds`.
fn token_insufficient_funds() -> Rejection {
    Rejection::Code(1, "TokenError::InsufficientFunds".into())
}
/// Creating an account that already exists: the programs top up, allocate and assign
/// (pre-funding tolerated), and System's `Allocate` refuses an account that has data or
/// another owner with `SystemError::AccountAlreadyInUse`.
fn already_in_use() -> Rejection {
    Rejection::Code(0, "SystemError::AccountAlreadyInUse".into())
}
/// The Ed25519 precompile's `InvalidSignature`: the transaction fails before ours runs.
fn precompile_invalid_signature() -> Rejection {
    Rejection::Code(2, "PrecompileError::InvalidSignature".into())
}

fn observed(err: &ChainError) -> Option<Rejection> {
    match err {
        ChainError::Transaction(TransactionError::InstructionError(
            _,
            InstructionError::Custom(code),
        )) => Some(Rejection::Code(*code, String::new())),
        ChainError::Transaction(TransactionError::InstructionError(_, e)) => {
            Some(Rejection::Runtime(e.clone()))
        }
        _ => None,
    }
}

/// One attack: its name, the transaction's instructions, its signers, and the named error
/// it must fail with.
type Row<'a> = (&'a str, Vec<Instruction>, Vec<&'a Keypair>, Rejection);

#[derive(Default)]
struct Matrix {
    tried: u32,
    rejected: u32,
    wrong: Vec<String>,
}

impl Matrix {
    async fn attack(
        &mut self,
        w: &mut World,
        name: &str,
        ixs: Vec<Instruction>,
        signers: &[&Keypair],
        expected: Rejection,
    ) {
        self.tried += 1;
        let outcome = w.chain.send(&ixs, signers).await;
        let matched = match (&outcome, &expected) {
            (Err(err), Rejection::Code(code, _)) => {
                matches!(observed(err), Some(Rejection::Code(c, _)) if c == *code)
            }
            (Err(err), Rejection::Runtime(e)) => {
                observed(err) == Some(Rejection::Runtime(e.clone()))
            }
            (Ok(_), _) => false,
        };
        if matched {
            self.rejected += 1;
        } else {
            self.wrong
                .push(format!("{name}: expected {expected:?}, got {outcome:?}"));
        }
    }

    /// Tries each row of `rows` in order: every attack must fail with its named error.
    async fn table(&mut self, w: &mut World, rows: Vec<Row<'_>>) {
        for (name, ixs, signers, expected) in rows {
            self.attack(w, name, ixs, &signers, expected).await;
        }
    }

    fn report(&self) {
        println!("attacks tried: {}, rejected: {}", self.tried, self.rejected);
        assert!(
            self.wrong.is_empty(),
            "attacks not rejected as expected:\n{}",
            self.wrong.join("\n")
        );
        assert!(self.tried >= 60);
        assert_eq!(self.tried, self.rejected);
    }
}

/// Replaces every account meta `from` with `to` (keeping its signer/writable flags).
fn swap(mut ix: Instruction, from: &Pubkey, to: &Pubkey) -> Instruction {
    for meta in &mut ix.accounts {
        if meta.pubkey == *from {
            meta.pubkey = *to;
        }
    }
    ix
}

/// `ix` with the staked party of authority `from` (its operator and stake vault) replaced
/// by that of `to`: a consistent party in the wrong role.
fn swap_party(ix: Instruction, from: &Pubkey, to: &Pubkey) -> Instruction {
    let (from_op, to_op) = (pda::operator(from), pda::operator(to));
    let ix = swap(ix, &pda::stake_vault(&from_op), &pda::stake_vault(&to_op));
    swap(ix, &from_op, &to_op)
}

fn with_data(mut ix: Instruction, data: Vec<u8>) -> Instruction {
    ix.data = data;
    ix
}

fn sk(k: &Keypair) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(k.secret_bytes())
}

struct Fixture {
    open: Pubkey,
    claimed: Pubkey,
    challenged: Pubkey,
    challenged_tree: MerkleTree,
    disputed: Pubkey,
    contested: Pubkey,
    /// Contested, its committee's seed slot not reached yet.
    undrawn: Pubkey,
    /// Passed, its window open.
    passed: Pubkey,
    passed_tree: MerkleTree,
    /// Passed, then challenged by the second provider; its committee drawn.
    pass_challenged: Pubkey,
    /// Committed; the last attacks ready its draw.
    ready: Pubkey,
    attacker: Keypair,
    fake_mint: Pubkey,
}

fn args(job_id: u64) -> PostJobArgs {
    World::job_args(job_id)
}

async fn fixture(w: &mut World) -> Fixture {
    let attacker = w
        .operator(assay_stake::constants::ROLE_PROVIDER)
        .await
        .unwrap();
    // A second mint the attacker controls accounts in.
    let fake_mint = Keypair::new();
    let token_program = w.chain.deployment.token_program;
    w.chain
        .create_mint(&fake_mint, token_program, 6)
        .await
        .unwrap();
    w.chain
        .mint_tokens(
            &fake_mint.pubkey(),
            &token_program,
            &attacker.pubkey(),
            1_000_000_000,
        )
        .await
        .unwrap();

    let open = w.post(0, args(1)).await.unwrap();
    let claimed = w.post(0, args(2)).await.unwrap();
    w.claim(0, &claimed).await.unwrap();
    let (challenged, challenged_tree, _) = w.challenged_job(3).await.unwrap();
    let (disputed, tree, verifier) = w.challenged_job(4).await.unwrap();
    report(w, &disputed, &tree, &verifier.unwrap()).await;
    let (contested, tree, verifier) = w.challenged_job(5).await.unwrap();
    report(w, &contested, &tree, &verifier.unwrap()).await;
    w.contest(&contested).await.unwrap();
    // (the first provider's stake is all locked by now: it stakes for two more jobs)
    let p = w.providers[0].insecure_clone();
    let more = w
        .chain
        .deployment
        .deposit(&p.pubkey(), 2 * World::job_args(0).collateral);
    w.chain.send(&[more], &[&p]).await.unwrap();
    let (passed, passed_tree, _) = w.passed_job(8).await.unwrap();
    let (pass_challenged, challenged_tree_9, _) = w.passed_job(9).await.unwrap();
    let job = w.job(&pass_challenged).await;
    let challenger = w.providers[1].pubkey();
    w.challenge_pass(
        &challenger,
        &pass_challenged,
        &challenged_tree_9,
        first_sample(&job),
        [9; 32],
    )
    .await
    .unwrap();
    w.chain.crank_committee(&pass_challenged).await.unwrap();
    let (undrawn, tree, verifier) = w.challenged_job(6).await.unwrap();
    report(w, &undrawn, &tree, &verifier.unwrap()).await;
    w.contest_only(&undrawn).await.unwrap();
    // A committed job (its draw is readied last, as that advances slots).
    let ready = w.post(0, args(7)).await.unwrap();
    // (the first provider's stake is all locked as collateral by now)
    w.claim(1, &ready).await.unwrap();
    w.commit(1, &ready, 7).await.unwrap();
    Fixture {
        passed,
        passed_tree,
        pass_challenged,
        ready,
        undrawn,
        open,
        claimed,
        challenged,
        challenged_tree,
        disputed,
        contested,
        attacker,
        fake_mint: fake_mint.pubkey(),
    }
}

fn first_sample(job: &Job) -> u32 {
    assay_protocol::sample_indices(&job.seed, job.n_chunks, u32::from(job.samples))[0]
}

async fn report(w: &mut World, job_key: &Pubkey, tree: &MerkleTree, verifier: &Pubkey) {
    let job = w.job(job_key).await;
    let index = first_sample(&job);
    let evidence = FaultEvidence::Mismatch {
        provider_leaf: tree.leaf(index).unwrap(),
        proof: tree.proof(index).unwrap(),
        recomputed_output_hash: [9; 32],
    };
    let v = w.key(verifier).insecure_clone();
    let ix = w
        .chain
        .deployment
        .report_fault(verifier, job_key, index, evidence);
    w.chain.send(&[ix], &[&v]).await.unwrap();
}

fn vote(job_key: &Pubkey, job: &Job, verdict: Verdict) -> AttestationMessage {
    assay_client::ix::vote_message(job_key, job, verdict)
}

#[tokio::test]
async fn every_attack_on_every_instruction_is_rejected_with_a_named_error() {
    // The longest draw window and an epoch that holds the whole matrix: the fixtures'
    // draws stay makeable while the attacks advance slots past the other windows.
    let mut setup = LocalSetup::default().with_epoch_slots(100_000);
    setup.market.draw_window_slots = assay_protocol::MAX_DRAW_WINDOW_SLOTS;
    let mut w = World::new(setup, 2, 2, 5).await.unwrap();
    let f = fixture(&mut w).await;
    let mut m = Matrix::default();
    let d = w.chain.deployment;
    let a = f.attacker.insecure_clone();
    let admin = w.chain.admin.insecure_clone();
    // Stake parameters whose values do not matter to the attacks that carry them.
    let zero_stake_args = assay_stake::instructions::InitializeArgs {
        unstake_cooldown_slots: 1,
        min_verifier_stake: 0,
        epoch_slots: 1,
    };
    let buyer = w.buyers[0].insecure_clone();
    let provider = w.providers[0].insecure_clone();
    let other_provider = w.providers[1].insecure_clone();
    let verifier_only = w.verifiers[0].insecure_clone();
    let fake_token = pda::token_account(&a.pubkey(), &f.fake_mint, &d.token_program);

    // ---------------- assay-stake ----------------
    let victim = provider.pubkey();
    let deposit = d.deposit(&a.pubkey(), 1);
    m.table(
        &mut w,
        vec![
            (
                "deposit: sign for another operator's account",
                vec![swap(
                    deposit.clone(),
                    &pda::operator(&a.pubkey()),
                    &pda::operator(&victim),
                )],
                vec![&a],
                anchor(Anchor::ConstraintSeeds),
            ),
            (
                "deposit: pull from another owner's token account",
                vec![swap(
                    deposit.clone(),
                    &d.token_account(&a.pubkey()),
                    &d.token_account(&victim),
                )],
                vec![&a],
                anchor(Anchor::ConstraintTokenOwner),
            ),
            (
                "deposit: into another operator's vault",
                vec![swap(
                    deposit.clone(),
                    &pda::stake_vault(&pda::operator(&a.pubkey())),
                    &pda::stake_vault(&pda::operator(&victim)),
                )],
                vec![&a],
                anchor(Anchor::ConstraintSeeds),
            ),
            (
                "deposit: wrong mint",
                vec![swap(
                    swap(deposit.clone(), &d.mint, &f.fake_mint),
                    &d.token_account(&a.pubkey()),
                    &fake_token,
                )],
                vec![&a],
                stake(S::WrongMint),
            ),
            (
                "deposit: source token account of another mint",
                vec![swap(
                    deposit.clone(),
                    &d.token_account(&a.pubkey()),
                    &fake_token,
                )],
                vec![&a],
                anchor(Anchor::ConstraintTokenMint),
            ),
            (
                "deposit: wrong token program",
                vec![swap(
                    deposit.clone(),
                    &d.token_program,
                    &anchor_spl::token_2022::ID,
                )],
                vec![&a],
                anchor(Anchor::ConstraintTokenTokenProgram),
            ),
            (
                "deposit: zero amount",
                vec![d.deposit(&a.pubkey(), 0)],
                vec![&a],
                stake(S::ZeroAmount),
            ),
            (
                "deposit: more than the wallet holds",
                vec![d.deposit(&a.pubkey(), u64::MAX)],
                vec![&a],
                token_insufficient_funds(),
            ),
            (
                "request_unstake: for another operator",
                vec![swap(
                    d.request_unstake(&a.pubkey(), 1),
                    &pda::operator(&a.pubkey()),
                    &pda::operator(&victim),
                )],
                vec![&a],
                anchor(Anchor::ConstraintSeeds),
            ),
            (
                "request_unstake: more than available",
                vec![d.request_unstake(&a.pubkey(), u64::MAX)],
                vec![&a],
                stake(S::InsufficientAvailableStake),
            ),
            (
                "request_unstake: zero",
                vec![d.request_unstake(&a.pubkey(), 0)],
                vec![&a],
                stake(S::ZeroAmount),
            ),
            (
                "withdraw: nothing pending",
                vec![d.withdraw(&a.pubkey())],
                vec![&a],
                stake(S::NothingToWithdraw),
            ),
            (
                "withdraw: to another owner's token account",
                vec![swap(
                    d.withdraw(&a.pubkey()),
                    &d.token_account(&a.pubkey()),
                    &d.token_account(&victim),
                )],
                vec![&a],
                anchor(Anchor::ConstraintTokenOwner),
            ),
            (
                "sync_verifier: a job posing as an operator",
                vec![swap(
                    d.sync_verifier(&a.pubkey()),
                    &pda::operator(&a.pubkey()),
                    &f.open,
                )],
                vec![],
                anchor(Anchor::AccountOwnedByWrongProgram),
            ),
        ],
    )
    .await;
    for case in mint_cases().into_iter().filter(|c| !c.accepted) {
        let mint = create_extension_mint(&mut w.chain, &case).await.unwrap();
        let token_2022 = Deployment {
            mint,
            token_program: anchor_spl::token_2022::ID,
            ..d
        };
        m.attack(
            &mut w,
            &format!("stake initialize: Token-2022 mint with {}", case.name),
            vec![token_2022.stake_initialize(&admin.pubkey(), zero_stake_args.clone())],
            &[&admin],
            stake(S::UnsupportedMint),
        )
        .await;
    }
    m.table(
        &mut w,
        vec![
            (
                "stake update_config: not the admin",
                vec![swap(
                    d.stake_update_config(&admin.pubkey(), zero_stake_args.tunables()),
                    &admin.pubkey(),
                    &a.pubkey(),
                )],
                vec![&a],
                stake(S::NotAdmin),
            ),
            (
                "stake update_config: cooldown too long",
                vec![d.stake_update_config(
                    &admin.pubkey(),
                    assay_stake::instructions::UpdateConfigArgs {
                        unstake_cooldown_slots: u64::MAX,
                        min_verifier_stake: 0,
                    },
                )],
                vec![&admin],
                stake(S::CooldownTooLong),
            ),
            (
                "stake initialize: by anyone but the deployer",
                vec![d.stake_initialize(&a.pubkey(), zero_stake_args.clone())],
                vec![&a],
                stake(S::NotDeployer),
            ),
            (
                "stake initialize: again, by the deployer",
                vec![d.stake_initialize(&admin.pubkey(), zero_stake_args.clone())],
                vec![&admin],
                already_in_use(),
            ),
        ],
    )
    .await;
    let newcomer = w.chain.new_user(0).await.unwrap();
    m.table(
        &mut w,
        vec![
            (
                "register_operator: no role",
                vec![d.register_operator(&newcomer.pubkey(), 0)],
                vec![&newcomer],
                stake(S::InvalidRoles),
            ),
            (
                "register_operator: unknown role bits",
                vec![d.register_operator(&newcomer.pubkey(), 4)],
                vec![&newcomer],
                stake(S::InvalidRoles),
            ),
            (
                "register_operator: twice",
                vec![d.register_operator(&a.pubkey(), ROLE_VERIFIER)],
                vec![&a],
                already_in_use(),
            ),
        ],
    )
    .await;

    // Lock, unlock and slash are the market's alone: a forged authority is refused.
    let op = pda::operator(&victim);
    let lock_accounts = assay_stake::accounts::LockStake {
        market_authority: a.pubkey(),
        config: pda::stake_config(),
        registry: Some(pda::verifier_registry()),
        operator: op,
        event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
        program: assay_stake::ID,
    };
    use anchor_lang::{InstructionData, ToAccountMetas};
    let lock = Instruction {
        program_id: assay_stake::ID,
        accounts: lock_accounts.to_account_metas(None),
        data: assay_stake::instruction::LockStake {
            args: assay_stake::instructions::LockStakeArgs {
                amount: 1,
                reclaim_unstaking: true,
            },
        }
        .data(),
    };
    m.table(
        &mut w,
        vec![
            (
                "lock_stake: signed by an attacker, not the market PDA",
                vec![lock.clone()],
                vec![&a],
                anchor(Anchor::ConstraintAddress),
            ),
            (
                "unlock_stake: signed by an attacker",
                vec![with_data(
                    lock.clone(),
                    assay_stake::instruction::UnlockStake {
                        args: assay_stake::instructions::StakeAmountArgs { amount: 1 },
                    }
                    .data(),
                )],
                vec![&a],
                anchor(Anchor::ConstraintAddress),
            ),
        ],
    )
    .await;
    let slash_accounts = assay_stake::accounts::SlashStake {
        market_authority: a.pubkey(),
        config: pda::stake_config(),
        registry: Some(pda::verifier_registry()),
        operator: op,
        vault: pda::stake_vault(&op),
        destination: d.token_account(&a.pubkey()),
        mint: d.mint,
        token_program: d.token_program,
        event_authority: assay_stake::EVENT_AUTHORITY_AND_BUMP.0,
        program: assay_stake::ID,
    };
    let slash = Instruction {
        program_id: assay_stake::ID,
        accounts: slash_accounts.to_account_metas(None),
        data: assay_stake::instruction::SlashStake {
            args: assay_stake::instructions::StakeAmountArgs { amount: 1 },
        }
        .data(),
    };
    m.attack(
        &mut w,
        "slash_stake: signed by an attacker",
        vec![slash],
        &[&a],
        anchor(Anchor::ConstraintAddress),
    )
    .await;

    // ---------------- assay-market: config ----------------
    let params = LocalSetup::default().market;
    m.table(
        &mut w,
        vec![
            (
                "initialize_config: by anyone but the deployer",
                vec![d.initialize_config(&a.pubkey(), params.clone())],
                vec![&a],
                market(M::NotDeployer),
            ),
            (
                "initialize_config: again, by the deployer",
                vec![d.initialize_config(&admin.pubkey(), params.clone())],
                vec![&admin],
                already_in_use(),
            ),
            (
                "update_config: not the admin",
                vec![swap(
                    d.update_config(&admin.pubkey(), params.clone()),
                    &admin.pubkey(),
                    &a.pubkey(),
                )],
                vec![&a],
                market(M::NotAdmin),
            ),
            (
                "update_config: fees above 100 %",
                vec![d.update_config(
                    &admin.pubkey(),
                    MarketParams {
                        verifier_fee_bps: 9_000,
                        protocol_fee_bps: 2_000,
                        ..params.clone()
                    },
                )],
                vec![&admin],
                market(M::FeesTooHigh),
            ),
            (
                "update_config: bond above verifier minimum",
                vec![d.update_config(
                    &admin.pubkey(),
                    MarketParams {
                        verifier_bond: u64::MAX,
                        verifier_miss_penalty: 1,
                        ..params.clone()
                    },
                )],
                vec![&admin],
                market(M::BondAboveVerifierMinimum),
            ),
            (
                "withdraw_treasury: not the admin",
                vec![swap(
                    d.withdraw_treasury(&admin.pubkey(), &d.token_account(&a.pubkey()), 1),
                    &admin.pubkey(),
                    &a.pubkey(),
                )],
                vec![&a],
                market(M::NotAdmin),
            ),
            (
                "withdraw_treasury: nothing",
                vec![d.withdraw_treasury(&admin.pubkey(), &d.token_account(&admin.pubkey()), 0)],
                vec![&admin],
                market(M::ZeroAmount),
            ),
            (
                "withdraw_treasury: more than it holds",
                vec![d.withdraw_treasury(
                    &admin.pubkey(),
                    &d.token_account(&admin.pubkey()),
                    u64::MAX,
                )],
                vec![&admin],
                market(M::TreasuryTooLow),
            ),
            (
                "withdraw_treasury: into an account of another mint",
                vec![d.withdraw_treasury(&admin.pubkey(), &fake_token, 1)],
                vec![&admin],
                anchor(Anchor::ConstraintTokenMint),
            ),
            (
                "update_config: zero rounds",
                vec![d.update_config(
                    &admin.pubkey(),
                    MarketParams {
                        max_verifier_rounds: 0,
                        ..params.clone()
                    },
                )],
                vec![&admin],
                market(M::InvalidRoundCount),
            ),
        ],
    )
    .await;

    // ---------------- post / cancel ----------------
    let b = buyer.pubkey();
    m.table(
        &mut w,
        vec![
            (
                "post_job: k > N",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        samples: 9,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::InvalidSampleCount),
            ),
            (
                "post_job: k = 0",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        samples: 0,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::InvalidSampleCount),
            ),
            (
                "post_job: k above the on-chain maximum",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        samples: 65,
                        n_chunks: 100,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::InvalidSampleCount),
            ),
            (
                "post_job: no chunks",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        n_chunks: 0,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::ZeroChunks),
            ),
            (
                "post_job: zero price",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        price: 0,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::ZeroPrice),
            ),
            (
                "post_job: price beyond the buyer's balance",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        // Twice what the buyer ever had, collateral at the floor.
                        price: 2 * assay_tests::STARTING_TOKENS,
                        collateral: 7 * assay_tests::STARTING_TOKENS,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                token_insufficient_funds(),
            ),
            (
                "post_job: zero claim window",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        claim_window_slots: 0,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::InvalidDeadline),
            ),
            (
                "post_job: window that overflows the slot clock",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        execution_window_slots: u64::MAX,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::InvalidDeadline),
            ),
            (
                "post_job: unknown comparison rule",
                vec![d.post_job(
                    &b,
                    PostJobArgs {
                        comparison_rule: 7,
                        ..args(90)
                    },
                )],
                vec![&buyer],
                market(M::UnknownComparisonRule),
            ),
            (
                "post_job: paid from another owner's token account",
                vec![swap(
                    d.post_job(&b, args(90)),
                    &d.token_account(&b),
                    &d.token_account(&a.pubkey()),
                )],
                vec![&buyer],
                anchor(Anchor::ConstraintTokenOwner),
            ),
            (
                "post_job: wrong mint",
                vec![swap(
                    swap(d.post_job(&a.pubkey(), args(90)), &d.mint, &f.fake_mint),
                    &d.token_account(&a.pubkey()),
                    &fake_token,
                )],
                vec![&a],
                market(M::WrongMint),
            ),
            (
                "post_job: escrow into another job's vault",
                vec![swap(
                    d.post_job(&b, args(90)),
                    &pda::job_vault(&pda::job(&b, 90)),
                    &pda::job_vault(&f.open),
                )],
                vec![&buyer],
                anchor(Anchor::ConstraintSeeds),
            ),
            (
                "post_job: reuse a live job id",
                vec![d.post_job(&b, args(1))],
                vec![&buyer],
                already_in_use(),
            ),
        ],
    )
    .await;
    let cancel = d.cancel_job(&b, 1);
    m.table(
        &mut w,
        vec![
            (
                "cancel_job: not the buyer",
                vec![swap(
                    swap(cancel.clone(), &b, &a.pubkey()),
                    &d.token_account(&b),
                    &d.token_account(&a.pubkey()),
                )],
                vec![&a],
                market(M::NotBuyer),
            ),
            (
                "cancel_job: refund to another owner",
                vec![swap(
                    cancel.clone(),
                    &d.token_account(&b),
                    &d.token_account(&a.pubkey()),
                )],
                vec![&buyer],
                anchor(Anchor::ConstraintTokenOwner),
            ),
            (
                "cancel_job: drain another job's vault",
                vec![swap(
                    cancel.clone(),
                    &pda::job_vault(&f.open),
                    &pda::job_vault(&f.claimed),
                )],
                vec![&buyer],
                anchor(Anchor::ConstraintSeeds),
            ),
            (
                "cancel_job: after a claim",
                vec![d.cancel_job(&b, 2)],
                vec![&buyer],
                market(M::WrongJobState),
            ),
        ],
    )
    .await;

    // ---------------- claim / commit ----------------
    let p = provider.pubkey();
    m.table(
        &mut w,
        vec![
            (
                "claim_job: verifier-only operator",
                vec![d.claim_job(&verifier_only.pubkey(), &f.open)],
                vec![&verifier_only],
                market(M::NotAProvider),
            ),
            (
                "claim_job: with another operator's stake",
                vec![swap(
                    d.claim_job(&a.pubkey(), &f.open),
                    &pda::operator(&a.pubkey()),
                    &pda::operator(&p),
                )],
                vec![&a],
                market(M::WrongOperator),
            ),
            (
                "claim_job: already claimed",
                vec![d.claim_job(&p, &f.claimed)],
                vec![&provider],
                market(M::WrongJobState),
            ),
            (
                "claim_job: forged market authority",
                vec![swap(
                    d.claim_job(&p, &f.open),
                    &pda::market_authority(),
                    &a.pubkey(),
                )],
                vec![&provider, &a],
                anchor(Anchor::ConstraintAddress),
            ),
            (
                "claim_job: fake verifier registry",
                vec![swap(
                    d.claim_job(&p, &f.open),
                    &pda::verifier_registry(),
                    &pda::stake_config(),
                )],
                vec![&provider],
                anchor(Anchor::AccountDiscriminatorMismatch),
            ),
            (
                "claim_job: substituted stake program",
                vec![swap(
                    d.claim_job(&p, &f.open),
                    &assay_stake::ID,
                    &anchor_lang::system_program::ID,
                )],
                vec![&provider],
                anchor(Anchor::InvalidProgramId),
            ),
            (
                "claim_job: a job account of another program",
                vec![swap(
                    d.claim_job(&p, &f.open),
                    &f.open,
                    &pda::stake_config(),
                )],
                vec![&provider],
                anchor(Anchor::AccountOwnedByWrongProgram),
            ),
        ],
    )
    .await;
    let poor = w
        .operator(assay_stake::constants::ROLE_PROVIDER)
        .await
        .unwrap();
    let poor_stake = assay_tests::OPERATOR_STAKE;
    w.chain
        .send(&[d.request_unstake(&poor.pubkey(), poor_stake)], &[&poor])
        .await
        .unwrap();
    m.table(
        &mut w,
        vec![
            (
                "claim_job: collateral beyond available stake",
                vec![d.claim_job(&poor.pubkey(), &f.open)],
                vec![&poor],
                stake(S::InsufficientAvailableStake),
            ),
            (
                "commit_result: not the provider",
                vec![d.commit_result(&other_provider.pubkey(), &f.claimed, [0; 32], String::new())],
                vec![&other_provider],
                market(M::NotProvider),
            ),
            (
                "commit_result: output location too long",
                vec![d.commit_result(&p, &f.claimed, [0; 32], "x".repeat(201))],
                vec![&provider],
                market(M::OutputUriTooLong),
            ),
            (
                "commit_result: on an open job",
                vec![d.commit_result(&p, &f.open, [0; 32], String::new())],
                vec![&provider],
                market(M::NotProvider),
            ),
        ],
    )
    .await;

    // ---------------- challenge / verdicts ----------------
    let challenged = w.job(&f.challenged).await;
    let assigned = challenged.verifier.unwrap();
    let assigned_key = w.key(&assigned).insecure_clone();
    let not_assigned = w
        .verifiers
        .iter()
        .find(|v| v.pubkey() != assigned)
        .unwrap()
        .insecure_clone();
    m.attack(
        &mut w,
        "draw_challenge: twice",
        vec![d.draw_challenge(&f.challenged, &challenged, Some(&assigned))],
        &[],
        market(M::WrongJobState),
    )
    .await;
    let pass = d
        .attest_pass(&assigned, &f.challenged, &challenged)
        .unwrap();
    m.table(
        &mut w,
        vec![
            (
                "attest_pass: not the assigned verifier",
                vec![d
                    .attest_pass(&not_assigned.pubkey(), &f.challenged, &challenged)
                    .unwrap()],
                vec![&not_assigned],
                market(M::NotAssignedVerifier),
            ),
            (
                "attest_pass: provider pay to the verifier's account",
                vec![swap(
                    pass.clone(),
                    &d.token_account(&p),
                    &d.token_account(&a.pubkey()),
                )],
                vec![&assigned_key],
                market(M::WrongAccountOwner),
            ),
            (
                "attest_pass: substituted treasury",
                vec![swap(
                    pass.clone(),
                    &d.treasury,
                    &d.token_account(&a.pubkey()),
                )],
                vec![&assigned_key],
                market(M::WrongTreasury),
            ),
            (
                "attest_pass: another job's vault",
                vec![swap(
                    pass.clone(),
                    &pda::job_vault(&f.challenged),
                    &pda::job_vault(&f.open),
                )],
                vec![&assigned_key],
                anchor(Anchor::ConstraintSeeds),
            ),
            (
                "attest_pass: wrong token program",
                vec![swap(
                    pass.clone(),
                    &d.token_program,
                    &anchor_spl::token_2022::ID,
                )],
                vec![&assigned_key],
                anchor(Anchor::ConstraintTokenTokenProgram),
            ),
            (
                "attest_pass: wrong mint",
                vec![swap(pass.clone(), &d.mint, &f.fake_mint)],
                vec![&assigned_key],
                market(M::WrongMint),
            ),
        ],
    )
    .await;
    let disputed_job = w.job(&f.disputed).await;
    let disputed_verifier = disputed_job.verifier.unwrap();
    let disputed_key = w.key(&disputed_verifier).insecure_clone();
    m.attack(
        &mut w,
        "attest_pass: on a disputed job",
        vec![d
            .attest_pass(&disputed_verifier, &f.disputed, &disputed_job)
            .unwrap()],
        &[&disputed_key],
        market(M::WrongJobState),
    )
    .await;

    let index = first_sample(&challenged);
    let tree = &f.challenged_tree;
    let out_of_sample = (0..challenged.n_chunks)
        .find(|i| {
            !assay_protocol::sample_indices(&challenged.seed, challenged.n_chunks, 3).contains(i)
        })
        .unwrap();
    let evidence = |leaf: [u8; 32], proof: Vec<[u8; 32]>| FaultEvidence::Mismatch {
        provider_leaf: leaf,
        proof,
        recomputed_output_hash: [9; 32],
    };
    let leaf = tree.leaf(index).unwrap();
    let proof = tree.proof(index).unwrap();
    m.table(
        &mut w,
        vec![
            (
                "report_fault: chunk outside the sample",
                vec![d.report_fault(
                    &assigned,
                    &f.challenged,
                    out_of_sample,
                    evidence(
                        tree.leaf(out_of_sample).unwrap(),
                        tree.proof(out_of_sample).unwrap(),
                    ),
                )],
                vec![&assigned_key],
                market(M::ChunkNotSampled),
            ),
            (
                "report_fault: chunk index beyond the job",
                vec![d.report_fault(
                    &assigned,
                    &f.challenged,
                    u32::MAX,
                    evidence(leaf, proof.clone()),
                )],
                vec![&assigned_key],
                market(M::ChunkNotSampled),
            ),
        ],
    )
    .await;
    let mut flipped = proof.clone();
    flipped[0][0] ^= 1;
    m.attack(
        &mut w,
        "report_fault: tampered Merkle proof",
        vec![d.report_fault(&assigned, &f.challenged, index, evidence(leaf, flipped))],
        &[&assigned_key],
        market(M::InvalidMerkleProof),
    )
    .await;
    let mut padded = proof.clone();
    padded.push([0; 32]);
    m.table(
        &mut w,
        vec![
            (
                "report_fault: padded Merkle proof",
                vec![d.report_fault(&assigned, &f.challenged, index, evidence(leaf, padded))],
                vec![&assigned_key],
                market(M::InvalidMerkleProof),
            ),
            (
                "report_fault: truncated Merkle proof",
                vec![d.report_fault(
                    &assigned,
                    &f.challenged,
                    index,
                    evidence(leaf, proof[1..].to_vec()),
                )],
                vec![&assigned_key],
                market(M::InvalidMerkleProof),
            ),
            (
                "report_fault: oversized proof",
                vec![d.report_fault(
                    &assigned,
                    &f.challenged,
                    index,
                    evidence(leaf, vec![[0; 32]; 40]),
                )],
                vec![&assigned_key],
                market(M::ProofTooLong),
            ),
            (
                "report_fault: a leaf the provider never committed",
                vec![d.report_fault(
                    &assigned,
                    &f.challenged,
                    index,
                    evidence([5; 32], proof.clone()),
                )],
                vec![&assigned_key],
                market(M::InvalidMerkleProof),
            ),
            (
                "report_fault: not the assigned verifier",
                vec![d.report_fault(
                    &not_assigned.pubkey(),
                    &f.challenged,
                    index,
                    evidence(leaf, proof.clone()),
                )],
                vec![&not_assigned],
                market(M::NotAssignedVerifier),
            ),
            (
                "report_fault: malformed instruction data",
                vec![with_data(
                    d.report_fault(&assigned, &f.challenged, index, FaultEvidence::Unavailable),
                    vec![0; 3],
                )],
                vec![&assigned_key],
                anchor(Anchor::InstructionFallbackNotFound),
            ),
            (
                "advance_round: before the window ends",
                vec![d.advance_round(&f.challenged, &challenged).unwrap()],
                vec![],
                market(M::DeadlineNotReached),
            ),
            (
                "advance_round: blaming another verifier",
                vec![swap_party(
                    d.advance_round(&f.challenged, &challenged).unwrap(),
                    &assigned,
                    &not_assigned.pubkey(),
                )],
                vec![],
                market(M::WrongOperator),
            ),
            (
                "finalize: before the window ends",
                vec![d.finalize(&f.challenged, &challenged).unwrap()],
                vec![],
                market(M::DeadlineNotReached),
            ),
        ],
    )
    .await;
    let claimed_job = w.job(&f.claimed).await;
    m.table(
        &mut w,
        vec![
            (
                "draw_challenge: spoofed SlotHashes",
                vec![swap(
                    d.draw_challenge(&f.claimed, &claimed_job, None),
                    &solana_sdk::sysvar::slot_hashes::ID,
                    &pda::stake_config(),
                )],
                vec![],
                anchor(Anchor::ConstraintAddress),
            ),
            (
                "draw_challenge: a forged registry (weights of the cranker's choosing)",
                vec![swap(
                    d.draw_challenge(&f.claimed, &claimed_job, None),
                    &pda::verifier_registry(),
                    &pda::market_config(),
                )],
                vec![],
                anchor(Anchor::AccountOwnedByWrongProgram),
            ),
            (
                "draw_challenge: before commit",
                vec![d.draw_challenge(&f.claimed, &claimed_job, None)],
                vec![],
                market(M::WrongJobState),
            ),
        ],
    )
    .await;

    // ---------------- disputes ----------------
    let disputed = w.job(&f.disputed).await;
    let stranger = w.buyers[1].insecure_clone();
    let concede = d
        .concede_fault(&stranger.pubkey(), &f.disputed, &disputed)
        .unwrap();
    m.attack(
        &mut w,
        "concede_fault: a stranger before the window ends",
        vec![concede.clone()],
        &[&stranger],
        market(M::DeadlineNotReached),
    )
    .await;
    let accuser = disputed.accuser.unwrap();
    m.table(
        &mut w,
        vec![
            (
                "concede_fault: finder fee to an attacker",
                vec![swap(
                    d.concede_fault(&p, &f.disputed, &disputed).unwrap(),
                    &d.token_account(&accuser),
                    &d.token_account(&a.pubkey()),
                )],
                vec![&provider],
                market(M::WrongAccountOwner),
            ),
            (
                "concede_fault: slash another operator's vault",
                vec![swap(
                    d.concede_fault(&p, &f.disputed, &disputed).unwrap(),
                    &pda::stake_vault(&pda::operator(&p)),
                    &pda::stake_vault(&pda::operator(&a.pubkey())),
                )],
                vec![&provider],
                anchor(Anchor::ConstraintSeeds),
            ),
        ],
    )
    .await;
    let mut hidden = d.contest_fault(&provider.pubkey(), &f.disputed, &disputed);
    hidden.accounts.pop();
    m.table(
        &mut w,
        vec![
            (
                "contest_fault: without the accuser's Operator account (counted as a judge)",
                vec![hidden],
                vec![&provider],
                market(M::MissingOperator),
            ),
            (
                "contest_fault: not the provider",
                vec![d.contest_fault(&other_provider.pubkey(), &f.disputed, &disputed)],
                vec![&other_provider],
                market(M::NotProvider),
            ),
            (
                "contest_fault: a forged registry (judges of the provider's choosing)",
                vec![swap(
                    d.contest_fault(&provider.pubkey(), &f.disputed, &disputed),
                    &pda::verifier_registry(),
                    &pda::market_config(),
                )],
                vec![&provider],
                anchor(Anchor::AccountOwnedByWrongProgram),
            ),
            (
                "expire_job: a disputed job",
                vec![d.expire_job(&f.disputed, &disputed)],
                vec![],
                market(M::WrongJobState),
            ),
            (
                "finalize: a disputed job",
                vec![d.finalize(&f.disputed, &disputed).unwrap()],
                vec![],
                market(M::WrongJobState),
            ),
        ],
    )
    .await;

    // ---------------- committee votes ----------------
    let contested = w.job(&f.contested).await;
    let resolve = d.resolve_contest(&f.contested, &contested).unwrap();
    let members: Vec<Keypair> = contested
        .committee
        .iter()
        .map(|k| w.key(k).insecure_clone())
        .collect();
    let uphold = vote(&f.contested, &contested, Verdict::UpholdFault);
    let votes_of =
        |msg: AttestationMessage| -> Vec<(ed25519_dalek::SigningKey, AttestationMessage)> {
            members.iter().map(|k| (sk(k), msg)).collect()
        };
    m.attack(
        &mut w,
        "resolve_contest: no Ed25519 instruction",
        vec![resolve.clone()],
        &[],
        market(M::MissingEd25519Instruction),
    )
    .await;
    let mut forged = vote_instruction(&votes_of(uphold));
    let sig_at = u16::from_le_bytes([forged.data[2], forged.data[3]]) as usize;
    forged.data[sig_at] ^= 1;
    m.table(
        &mut w,
        vec![
            (
                "resolve_contest: forged signature",
                vec![forged, resolve.clone()],
                vec![],
                precompile_invalid_signature(),
            ),
            (
                "resolve_contest: votes from outside the committee",
                vec![
                    vote_instruction(&[(sk(&a), uphold), (sk(&stranger), uphold)]),
                    resolve.clone(),
                ],
                vec![],
                market(M::NotACommitteeMember),
            ),
            (
                "resolve_contest: one member voting twice",
                vec![
                    vote_instruction(&[(sk(&members[0]), uphold), (sk(&members[0]), uphold)]),
                    resolve.clone(),
                ],
                vec![],
                market(M::DuplicateVote),
            ),
            (
                "resolve_contest: votes replayed from another job",
                vec![
                    vote_instruction(&votes_of(AttestationMessage {
                        job: f.disputed.to_bytes(),
                        ..uphold
                    })),
                    resolve.clone(),
                ],
                vec![],
                market(M::AttestationMismatch),
            ),
            (
                "resolve_contest: votes signed in an earlier life of the job's address",
                vec![
                    vote_instruction(&votes_of(AttestationMessage {
                        instance: contested.instance - 1,
                        ..uphold
                    })),
                    resolve.clone(),
                ],
                vec![],
                market(M::AttestationMismatch),
            ),
        ],
    )
    .await;
    let undrawn = w.job(&f.undrawn).await;
    m.table(
        &mut w,
        vec![
            (
                "resolve_contest: before the committee is drawn",
                vec![
                    vote_instruction(&votes_of(vote(&f.undrawn, &undrawn, Verdict::UpholdFault))),
                    d.resolve_contest(&f.undrawn, &undrawn).unwrap(),
                ],
                vec![],
                market(M::CommitteeNotDrawn),
            ),
            (
                "draw_committee: from a hash known before the contest (seed slot not reached)",
                vec![d.draw_committee(&f.undrawn, &undrawn, &[])],
                vec![],
                market(M::SeedSlotNotReached),
            ),
            (
                "draw_committee: drawn again to reshuffle the seats",
                vec![d.draw_committee(&f.contested, &contested, &[])],
                vec![],
                market(M::CommitteeAlreadyDrawn),
            ),
            (
                "draw_committee: a job not contested",
                vec![d.draw_committee(&f.disputed, &disputed, &[])],
                vec![],
                market(M::WrongJobState),
            ),
            (
                "draw_committee: spoofed SlotHashes",
                vec![swap(
                    d.draw_committee(&f.contested, &contested, &[]),
                    &solana_sdk::sysvar::slot_hashes::ID,
                    &pda::stake_config(),
                )],
                vec![],
                anchor(Anchor::ConstraintAddress),
            ),
            (
                "draw_committee: a forged registry (weights of the cranker's choosing)",
                vec![swap(
                    d.draw_committee(&f.contested, &contested, &[]),
                    &pda::verifier_registry(),
                    &pda::market_config(),
                )],
                vec![],
                anchor(Anchor::AccountOwnedByWrongProgram),
            ),
            (
                "resolve_contest: votes for another contest of the job",
                vec![
                    vote_instruction(&votes_of(AttestationMessage {
                        contest: uphold.contest.wrapping_add(1),
                        ..uphold
                    })),
                    resolve.clone(),
                ],
                vec![],
                market(M::AttestationMismatch),
            ),
            (
                "resolve_contest: votes on other evidence",
                vec![
                    vote_instruction(&votes_of(AttestationMessage {
                        evidence_hash: [3; 32],
                        ..uphold
                    })),
                    resolve.clone(),
                ],
                vec![],
                market(M::AttestationMismatch),
            ),
            (
                "resolve_contest: votes for another deployment",
                vec![
                    vote_instruction(&votes_of(AttestationMessage {
                        program_id: [8; 32],
                        ..uphold
                    })),
                    resolve.clone(),
                ],
                vec![],
                market(M::AttestationMismatch),
            ),
            (
                "resolve_contest: a verdict that is not a vote",
                vec![
                    vote_instruction(&votes_of(AttestationMessage {
                        verdict: Verdict::Pass,
                        ..uphold
                    })),
                    resolve.clone(),
                ],
                vec![],
                market(M::AttestationMismatch),
            ),
        ],
    )
    .await;
    let mut elsewhere = vote_instruction(&votes_of(uphold));
    // Point the first signature's message index at this instruction by number instead of
    // u16::MAX: the precompile accepts it, the market must not. The votes are the first
    // instruction the test sends, after those the chain prepends.
    let votes_index = assay_testkit::embedded::LocalChain::PREPENDED_INSTRUCTIONS;
    elsewhere.data[2 + 12..2 + 14].copy_from_slice(&votes_index.to_le_bytes());
    m.table(
        &mut w,
        vec![
            (
                "resolve_contest: offsets pointing at another instruction index",
                vec![elsewhere, resolve.clone()],
                vec![],
                market(M::MalformedEd25519Instruction),
            ),
            (
                "resolve_contest: spoofed instructions sysvar",
                vec![
                    vote_instruction(&votes_of(uphold)),
                    swap(
                        resolve.clone(),
                        &solana_sdk::sysvar::instructions::ID,
                        &pda::stake_config(),
                    ),
                ],
                vec![],
                anchor(Anchor::ConstraintAddress),
            ),
            (
                "resolve_contest: a minority",
                vec![vote_instruction(&votes_of(uphold)[..1]), resolve.clone()],
                vec![],
                market(M::NoQuorum),
            ),
            (
                "void_contest: before the vote window ends",
                vec![d.void_contest(&f.contested, &contested).unwrap()],
                vec![],
                market(M::DeadlineNotReached),
            ),
        ],
    )
    .await;

    pass_window_attacks(&mut w, &mut m, &f).await;

    // ---------------- deadlines ----------------
    let open = w.job(&f.open).await;
    m.attack(
        &mut w,
        "expire_job: before the claim deadline",
        vec![d.expire_job(&f.open, &open)],
        &[],
        market(M::DeadlineNotReached),
    )
    .await;
    let claimed = w.job(&f.claimed).await;
    m.attack(
        &mut w,
        "expire_job: claimed job before its commit deadline",
        vec![d.expire_job(&f.claimed, &claimed)],
        &[],
        market(M::DeadlineNotReached),
    )
    .await;
    w.chain.warp(200).await.unwrap();
    let mut without_provider = claimed.clone();
    without_provider.provider = None;
    m.table(
        &mut w,
        vec![
            (
                "expire_job: claimed job without the provider's stake",
                vec![d.expire_job(&f.claimed, &without_provider)],
                vec![],
                market(M::WrongOperator),
            ),
            (
                "claim_job: after the claim deadline",
                vec![d.claim_job(&p, &f.open)],
                vec![&provider],
                market(M::DeadlinePassed),
            ),
            (
                "commit_result: after the commit deadline",
                vec![d.commit_result(&p, &f.claimed, [0; 32], String::new())],
                vec![&provider],
                market(M::DeadlinePassed),
            ),
            (
                "attest_pass: after the verdict window",
                vec![pass.clone()],
                vec![&assigned_key],
                market(M::DeadlinePassed),
            ),
            (
                "contest_fault: after the dispute window",
                vec![d.contest_fault(&p, &f.disputed, &disputed)],
                vec![&provider],
                market(M::DeadlinePassed),
            ),
            (
                "resolve_contest: after the vote window",
                vec![vote_instruction(&votes_of(uphold)), resolve.clone()],
                vec![],
                market(M::DeadlinePassed),
            ),
        ],
    )
    .await;

    pass_window_late_attacks(&mut w, &mut m, &f).await;

    // Last, as readying a draw advances slots past other fixtures' windows.
    w.chain.ready_draw(&f.ready).await.unwrap();
    let ready = w.job(&f.ready).await;
    let drawn = w.chain.predict_draw(&f.ready).await.unwrap();
    let mut hidden = d.draw_challenge(&f.ready, &ready, drawn.as_ref());
    hidden.accounts.pop();
    m.attack(
        &mut w,
        "draw_challenge: without the provider's Operator account (its weight not excluded)",
        vec![hidden],
        &[],
        market(M::MissingOperator),
    )
    .await;
    m.report();
}

/// Attacks on a pass's window and on the challenges of it, while the windows are open.
async fn pass_window_attacks(w: &mut World, m: &mut Matrix, f: &Fixture) {
    let d = w.chain.deployment;
    let a = f.attacker.insecure_clone();
    let passed = w.job(&f.passed).await;
    let verifier = passed.verifier.unwrap();
    let provider = passed.provider.unwrap();
    let tree = &f.passed_tree;
    let index = first_sample(&passed);
    let challenge = |challenger: &Pubkey, index: u32, proof: Vec<[u8; 32]>| {
        d.challenge_pass(
            challenger,
            &f.passed,
            &passed,
            ChallengePassArgs {
                chunk_index: index,
                provider_leaf: tree.leaf(index).unwrap(),
                proof,
                recomputed_output_hash: [9; 32],
            },
        )
    };
    let proof = tree.proof(index).unwrap();
    for (name, party) in [
        ("challenge_pass: by the job's provider", provider),
        ("challenge_pass: by the verifier that attested", verifier),
    ] {
        let key = w.key(&party).insecure_clone();
        m.attack(
            w,
            name,
            vec![challenge(&party, index, proof.clone())],
            &[&key],
            market(M::ChallengerIsAParty),
        )
        .await;
    }
    let out_of_sample = (0..passed.n_chunks)
        .find(|i| !assay_protocol::sample_indices(&passed.seed, passed.n_chunks, 3).contains(i))
        .unwrap();
    let attacks = [
        (
            "challenge_pass: a chunk the verifier did not have to check",
            challenge(
                &a.pubkey(),
                out_of_sample,
                tree.proof(out_of_sample).unwrap(),
            ),
            market(M::ChunkNotSampled),
        ),
        (
            "challenge_pass: tampered Merkle proof",
            {
                let mut flipped = proof.clone();
                flipped[0][0] ^= 1;
                challenge(&a.pubkey(), index, flipped)
            },
            market(M::InvalidMerkleProof),
        ),
        (
            "challenge_pass: lock another operator's stake as the bond",
            swap(
                challenge(&a.pubkey(), index, proof.clone()),
                &pda::operator(&a.pubkey()),
                &pda::operator(&w.verifiers[4].pubkey()),
            ),
            market(M::WrongOperator),
        ),
        (
            "challenge_pass: without the verifier's Operator account (its weight not excluded)",
            {
                let mut ix = challenge(&a.pubkey(), index, proof.clone());
                ix.accounts.pop();
                ix
            },
            market(M::MissingOperator),
        ),
    ];
    for (name, ix, expected) in attacks {
        m.attack(w, name, vec![ix], &[&a], expected).await;
    }
    let unavailable = |challenger: &Pubkey, index: u32| {
        d.challenge_availability(challenger, &f.passed, &passed, index)
    };
    let availability_attacks = [
        (
            "challenge_availability: a chunk past the job's last",
            unavailable(&a.pubkey(), passed.n_chunks),
            market(M::ChunkOutOfRange),
        ),
        (
            "challenge_availability: lock another operator's stake as the bond",
            swap(
                unavailable(&a.pubkey(), index),
                &pda::operator(&a.pubkey()),
                &pda::operator(&w.verifiers[4].pubkey()),
            ),
            market(M::WrongOperator),
        ),
        (
            "challenge_availability: without the verifier's Operator account (its weight not excluded)",
            {
                let mut ix = unavailable(&a.pubkey(), index);
                ix.accounts.pop();
                ix
            },
            market(M::MissingOperator),
        ),
    ];
    for (name, ix, expected) in availability_attacks {
        m.attack(w, name, vec![ix], &[&a], expected).await;
    }
    for (name, party) in [
        ("challenge_availability: by the job's provider", provider),
        (
            "challenge_availability: by the verifier that attested",
            verifier,
        ),
    ] {
        let key = w.key(&party).insecure_clone();
        m.attack(
            w,
            name,
            vec![unavailable(&party, out_of_sample)],
            &[&key],
            market(M::ChallengerIsAParty),
        )
        .await;
    }
    let unstaked = w.buyers[1].insecure_clone();
    m.attack(
        w,
        "challenge_availability: by someone with no stake to bond",
        vec![unavailable(&unstaked.pubkey(), out_of_sample)],
        &[&unstaked],
        anchor(Anchor::AccountNotInitialized),
    )
    .await;
    m.attack(
        w,
        "challenge_pass: by someone with no stake to bond",
        vec![challenge(&unstaked.pubkey(), index, proof.clone())],
        &[&unstaked],
        anchor(Anchor::AccountNotInitialized),
    )
    .await;
    let challenged = w.job(&f.challenged).await;
    let on_challenged = d.challenge_pass(
        &a.pubkey(),
        &f.challenged,
        &challenged,
        ChallengePassArgs {
            chunk_index: first_sample(&challenged),
            provider_leaf: f.challenged_tree.leaf(first_sample(&challenged)).unwrap(),
            proof: f.challenged_tree.proof(first_sample(&challenged)).unwrap(),
            recomputed_output_hash: [9; 32],
        },
    );
    m.attack(
        w,
        "challenge_pass: a job not passed yet",
        vec![on_challenged],
        &[&a],
        market(M::WrongJobState),
    )
    .await;

    let close = d.close_pass(&f.passed, &passed).unwrap();
    let closes = [
        (
            "close_pass: before the window ends",
            close.clone(),
            market(M::DeadlineNotReached),
        ),
        (
            "close_pass: another provider's operator",
            swap(
                close.clone(),
                &pda::operator(&provider),
                &pda::operator(&a.pubkey()),
            ),
            market(M::WrongOperator),
        ),
    ];
    for (name, ix, expected) in closes {
        m.attack(w, name, vec![ix], &[], expected).await;
    }

    // The challenged pass: its committee sits.
    let job = w.job(&f.pass_challenged).await;
    let members: Vec<Keypair> = job
        .committee
        .iter()
        .map(|k| w.key(k).insecure_clone())
        .collect();
    let votes = |verdict: Verdict, count: usize| {
        let msg = vote(&f.pass_challenged, &job, verdict);
        vote_instruction(
            &members
                .iter()
                .take(count)
                .map(|k| (sk(k), msg))
                .collect::<Vec<_>>(),
        )
    };
    let all = members.len();
    let uphold = d.uphold_challenge(&f.pass_challenged, &job);
    let overturn = d.overturn_challenge(&f.pass_challenged, &job).unwrap();
    let mut stale = vote(&f.pass_challenged, &job, Verdict::UpholdFault);
    stale.contest = stale.contest.wrapping_sub(1);
    let resolutions = [
        (
            "uphold_challenge: votes that overturn",
            vec![votes(Verdict::OverturnFault, all), uphold.clone().unwrap()],
            market(M::OtherOutcome),
        ),
        (
            "overturn_challenge: votes that uphold",
            vec![votes(Verdict::UpholdFault, all), overturn.clone()],
            market(M::OtherOutcome),
        ),
        (
            "uphold_challenge: a minority",
            vec![votes(Verdict::UpholdFault, 1), uphold.clone().unwrap()],
            market(M::NoQuorum),
        ),
        (
            "uphold_challenge: votes from outside the committee",
            vec![
                vote_instruction(&[(sk(&a), vote(&f.pass_challenged, &job, Verdict::UpholdFault))]),
                uphold.clone().unwrap(),
            ],
            market(M::NotACommitteeMember),
        ),
        (
            "uphold_challenge: votes of the verifier's round, before the challenge",
            vec![
                vote_instruction(&members.iter().map(|k| (sk(k), stale)).collect::<Vec<_>>()),
                uphold.clone().unwrap(),
            ],
            market(M::AttestationMismatch),
        ),
        (
            "uphold_challenge: finder share to the attacker",
            vec![
                votes(Verdict::UpholdFault, all),
                swap(
                    uphold.clone().unwrap(),
                    &d.token_account(&job.accuser.unwrap()),
                    &d.token_account(&a.pubkey()),
                ),
            ],
            market(M::WrongAccountOwner),
        ),
        (
            "uphold_challenge: another verifier's operator slashed",
            vec![votes(Verdict::UpholdFault, all), {
                // Keys are fresh each run, so the drawn verifier may be any of them: the
                // victim must be someone else, or the swap is a no-op and the uphold lands.
                let bystander = w
                    .verifiers
                    .iter()
                    .map(Keypair::pubkey)
                    .find(|k| Some(*k) != job.verifier)
                    .expect("more than one verifier");
                let (real, other) = (
                    pda::operator(&job.verifier.unwrap()),
                    pda::operator(&bystander),
                );
                let ix = swap(uphold.clone().unwrap(), &real, &other);
                swap(ix, &pda::stake_vault(&real), &pda::stake_vault(&other))
            }],
            market(M::WrongOperator),
        ),
        (
            "overturn_challenge: victim share to the attacker",
            vec![
                votes(Verdict::OverturnFault, all),
                swap(
                    overturn.clone(),
                    &d.token_account(&job.verifier.unwrap()),
                    &d.token_account(&a.pubkey()),
                ),
            ],
            market(M::WrongAccountOwner),
        ),
        (
            "uphold_challenge: a pass nobody challenged, naming the attacker as challenger",
            vec![votes(Verdict::UpholdFault, all), {
                let mut claimed = passed.clone();
                claimed.accuser = Some(a.pubkey());
                d.uphold_challenge(&f.passed, &claimed).unwrap()
            }],
            // The attacker's operator is not the job's accuser (checked with the accounts,
            // before its token account is checked as a payee).
            market(M::WrongOperator),
        ),
        (
            "void_challenge: before the vote window ends",
            vec![d.void_challenge(&f.pass_challenged, &job).unwrap()],
            market(M::DeadlineNotReached),
        ),
        (
            "void_challenge: unlock another operator's stake",
            vec![swap_party(
                d.void_challenge(&f.pass_challenged, &job).unwrap(),
                &job.accuser.unwrap(),
                &a.pubkey(),
            )],
            market(M::WrongOperator),
        ),
    ];
    for (name, ixs, expected) in resolutions {
        m.attack(w, name, ixs, &[], expected).await;
    }
}

/// Attacks after the pass windows and vote windows ended (the caller warped past them).
async fn pass_window_late_attacks(w: &mut World, m: &mut Matrix, f: &Fixture) {
    let d = w.chain.deployment;
    let a = f.attacker.insecure_clone();
    let passed = w.job(&f.passed).await;
    let index = first_sample(&passed);
    let late = d.challenge_pass(
        &a.pubkey(),
        &f.passed,
        &passed,
        ChallengePassArgs {
            chunk_index: index,
            provider_leaf: f.passed_tree.leaf(index).unwrap(),
            proof: f.passed_tree.proof(index).unwrap(),
            recomputed_output_hash: [9; 32],
        },
    );
    m.attack(
        w,
        "challenge_pass: after the pass window",
        vec![late],
        &[&a],
        market(M::DeadlinePassed),
    )
    .await;
    let close = d.close_pass(&f.passed, &passed).unwrap();
    let closes = [
        (
            "close_pass: the verifier's fee to the attacker",
            swap(
                close.clone(),
                &d.token_account(&passed.verifier.unwrap()),
                &d.token_account(&a.pubkey()),
            ),
            market(M::WrongAccountOwner),
        ),
        (
            "close_pass: the verifier's fee to an account of another mint",
            swap(
                close.clone(),
                &d.token_account(&passed.verifier.unwrap()),
                &pda::token_account(&a.pubkey(), &f.fake_mint, &d.token_program),
            ),
            market(M::WrongMint),
        ),
        (
            "close_pass: rent to someone other than the buyer",
            swap(close.clone(), &passed.buyer, &a.pubkey()),
            market(M::NotBuyer),
        ),
        (
            "close_pass: vault residue (donations) to the attacker",
            swap(
                close.clone(),
                &d.token_account(&passed.buyer),
                &d.token_account(&a.pubkey()),
            ),
            anchor(Anchor::ConstraintTokenOwner),
        ),
    ];
    for (name, ix, expected) in closes {
        m.attack(w, name, vec![ix], &[], expected).await;
    }
    let job = w.job(&f.pass_challenged).await;
    let msg = vote(&f.pass_challenged, &job, Verdict::UpholdFault);
    let votes: Vec<_> = job.committee.iter().map(|k| (sk(w.key(k)), msg)).collect();
    m.attack(
        w,
        "uphold_challenge: after the vote window",
        vec![
            vote_instruction(&votes),
            d.uphold_challenge(&f.pass_challenged, &job).unwrap(),
        ],
        &[],
        market(M::DeadlinePassed),
    )
    .await;
}
