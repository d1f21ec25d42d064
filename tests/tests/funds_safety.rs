//! Funds safety against outsiders who play by the rules of the token program, the system
//! program and the admin keys (docs/protocol.md, threat model). One test per rule:
//!
//! 1. unsolicited tokens or lamports never block an exit (job vaults, stake vaults);
//! 2. only mints whose transfers are exact and whose custody the programs control;
//! 3. no exit depends on an account its owner can close or freeze (treasury vault PDA);
//! 4. only the build-time deployer can initialize either program;
//! 5. pre-funding an address never blocks its creation;
//! 6. no admin parameter change strands a job or a stake;
//! 7. the verifier registry cannot be filled for free.

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022 as spl;
use assay_client::events::AssayEvent;
use assay_client::pda;
use assay_client::Chain;
use assay_market::errors::MarketError;
use assay_market::events::JobClosed;
use assay_market::state::JobState;
use assay_protocol::Verdict;
use assay_stake::constants::ROLE_VERIFIER;
use assay_stake::errors::StakeError;
use assay_stake::instructions::UpdateConfigArgs;
use assay_testkit::embedded::{ChainError, LocalChain, LocalSetup, TokenFlavor};
use assay_tests::mints::{create_extension_mint, mint_cases};
use assay_tests::{World, OPERATOR_STAKE, STARTING_TOKENS};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

fn custom(code: u32) -> Option<u32> {
    Some(6000 + code)
}

/// Every exit of a job, named by the instruction that takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exit {
    Cancel,
    ExpireUnclaimed,
    ExpireNoShow,
    ClosePass,
    Finalize,
    Concede,
    ResolveUphold,
    ResolveOverturn,
    Void,
    UpholdChallenge,
}

const EXITS: [Exit; 10] = [
    Exit::Cancel,
    Exit::ExpireUnclaimed,
    Exit::ExpireNoShow,
    Exit::ClosePass,
    Exit::Finalize,
    Exit::Concede,
    Exit::ResolveUphold,
    Exit::ResolveOverturn,
    Exit::Void,
    Exit::UpholdChallenge,
];

/// A world where every exit can be reached: a committee of three can be drawn beside the
/// provider, the verifier and a challenger, and two verifier rounds can be missed.
async fn exit_world(setup: LocalSetup) -> World {
    World::new(setup, 1, 1, 5).await.unwrap()
}

impl Exit {
    /// Drives a fresh job `job_id` to the state this exit leaves from.
    async fn prepare(self, w: &mut World, job_id: u64) -> Pubkey {
        match self {
            Exit::Cancel | Exit::ExpireUnclaimed => {
                w.post(0, World::job_args(job_id)).await.unwrap()
            }
            Exit::ExpireNoShow => {
                let job = w.post(0, World::job_args(job_id)).await.unwrap();
                w.claim(0, &job).await.unwrap();
                job
            }
            Exit::ClosePass | Exit::UpholdChallenge => {
                let (job, tree, verifier) = w.passed_job(job_id).await.unwrap();
                if self == Exit::UpholdChallenge {
                    let challenger = w
                        .verifiers
                        .iter()
                        .map(|v| v.pubkey())
                        .find(|v| *v != verifier)
                        .unwrap();
                    let state = w.job(&job).await;
                    let index = assay_protocol::sample_indices(&state.seed, 8, 3)[0];
                    w.challenge_pass(&challenger, &job, &tree, index, [9; 32])
                        .await
                        .unwrap();
                    w.chain.crank_committee(&job).await.unwrap();
                }
                job
            }
            _ => {
                let (job, _, verifier) = w.challenged_job(job_id).await.unwrap();
                assert!(verifier.is_some(), "{self:?}: a verifier is drawn");
                if matches!(
                    self,
                    Exit::Concede | Exit::ResolveUphold | Exit::ResolveOverturn | Exit::Void
                ) {
                    w.report_unavailable(&job).await.unwrap();
                }
                if matches!(
                    self,
                    Exit::ResolveUphold | Exit::ResolveOverturn | Exit::Void
                ) {
                    w.contest(&job).await.unwrap();
                }
                job
            }
        }
    }

    /// Takes the exit (waiting out any window it needs first); returns the events.
    async fn take(self, w: &mut World, job: &Pubkey) -> Result<Vec<AssayEvent>, ChainError> {
        let d = w.chain.deployment;
        let state = w.job(job).await;
        let (ixs, signer): (Vec<Instruction>, Option<Keypair>) = match self {
            Exit::Cancel => (
                vec![d.cancel_job(&state.buyer, state.job_id)],
                Some(w.key(&state.buyer).insecure_clone()),
            ),
            Exit::ExpireUnclaimed | Exit::ExpireNoShow => {
                w.chain.warp(201).await?;
                (vec![d.expire_job(job, &state)], None)
            }
            Exit::ClosePass => {
                let slot = w.chain.slot().await?;
                w.chain.warp(state.step_deadline_slot + 1 - slot).await?;
                (vec![d.close_pass(job, &state).unwrap()], None)
            }
            Exit::Finalize => {
                // Every round missed: finalize opens an unaudited pass window, and the
                // job ends when it closes unchallenged.
                w.chain.warp(51).await?;
                let ix = d.advance_round(job, &state);
                w.chain.send(&[ix.unwrap()], &[]).await?;
                w.chain.crank_draw(job).await?;
                w.chain.warp(51).await?;
                let state = w.job(job).await;
                w.chain
                    .send(&[d.finalize(job, &state).unwrap()], &[])
                    .await?;
                let state = w.job(job).await;
                let slot = w.chain.slot().await?;
                w.chain.warp(state.step_deadline_slot + 1 - slot).await?;
                (vec![d.close_pass(job, &state).unwrap()], None)
            }
            Exit::Concede => {
                let provider = state.provider.expect("claimed");
                (
                    vec![d.concede_fault(&provider, job, &state).unwrap()],
                    Some(w.key(&provider).insecure_clone()),
                )
            }
            Exit::ResolveUphold | Exit::ResolveOverturn | Exit::UpholdChallenge => {
                let verdict = if self != Exit::ResolveOverturn {
                    Verdict::UpholdFault
                } else {
                    Verdict::OverturnFault
                };
                let committee = state.committee.clone();
                (
                    w.resolve_instructions(job, &committee, verdict)
                        .await
                        .to_vec(),
                    None,
                )
            }
            Exit::Void => {
                w.chain.warp(51).await?;
                (vec![d.void_contest(job, &state).unwrap()], None)
            }
        };
        let signers: Vec<&Keypair> = signer.iter().collect();
        w.chain.send_with_events(&ixs, &signers).await
    }
}

fn job_closed(events: &[AssayEvent]) -> Option<&JobClosed> {
    events.iter().find_map(|e| match e {
        AssayEvent::JobClosed(c) => Some(c),
        _ => None,
    })
}

/// Rule 1: anyone may send tokens to a job vault and lamports to the job and its vault;
/// every exit still completes, the extra tokens go to the buyer and the lamports with the
/// rent. Without the residue sweep, one base unit made `close_account` fail in every exit.
#[tokio::test]
async fn unsolicited_tokens_and_lamports_never_block_an_exit() {
    let mut w = exit_world(LocalSetup::default()).await;
    let mut failures = vec![];
    for (i, exit) in EXITS.into_iter().enumerate() {
        let job = exit.prepare(&mut w, 100 + i as u64).await;
        let vault = pda::job_vault(&job);
        w.donate_tokens(&vault, 7).await.unwrap();
        w.donate_lamports(&vault, 1_000).await.unwrap();
        w.donate_lamports(&job, 1_000).await.unwrap();
        let buyer = w.buyer().pubkey();
        let before = w.chain.balance_of(&buyer).await.unwrap();
        match exit.take(&mut w, &job).await {
            Err(e) => failures.push(format!("{exit:?}: {e}")),
            Ok(events) => {
                let closed = job_closed(&events).expect("JobClosed emitted").clone();
                let gained = w.chain.balance_of(&buyer).await.unwrap() - before;
                if closed.residue != 7 || gained != closed.buyer_refund + 7 {
                    failures.push(format!(
                        "{exit:?}: residue {} gained {gained}",
                        closed.residue
                    ));
                }
                for gone in [job, vault] {
                    if w.chain.account(&gone).await.unwrap().is_some() {
                        failures.push(format!("{exit:?}: {gone} still exists"));
                    }
                }
            }
        }
        assert_eq!(
            w.total_tokens(&[job]).await.unwrap(),
            w.minted,
            "{exit:?} (failures so far: {failures:?})"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Rule 1 for stake: tokens sent to an operator's stake vault never block its withdrawal
/// and are paid out with it, so the vault again holds exactly `deposited`.
#[tokio::test]
async fn unsolicited_tokens_in_a_stake_vault_are_paid_out_with_the_next_withdrawal() {
    let mut w = World::new(LocalSetup::default(), 0, 0, 1).await.unwrap();
    let v = w.verifiers[0].insecure_clone();
    let vault = pda::stake_vault(&pda::operator(&v.pubkey()));
    w.donate_tokens(&vault, 5).await.unwrap();
    w.donate_lamports(&vault, 1_000).await.unwrap();
    w.donate_lamports(&pda::operator(&v.pubkey()), 1_000)
        .await
        .unwrap();
    let d = w.chain.deployment;
    let before = w.chain.balance_of(&v.pubkey()).await.unwrap();
    let ix = d.request_unstake(&v.pubkey(), 1_000_000);
    w.chain.send(&[ix], &[&v]).await.unwrap();
    let cooldown = LocalSetup::default().stake.unstake_cooldown_slots;
    w.chain.warp(cooldown + 1).await.unwrap();
    let ix = d.withdraw(&v.pubkey());
    w.chain.send(&[ix], &[&v]).await.unwrap();
    assert_eq!(
        w.chain.balance_of(&v.pubkey()).await.unwrap(),
        before + 1_000_005
    );
    let op = w.chain.operator(&v.pubkey()).await.unwrap().unwrap();
    assert_eq!(w.chain.token_balance(&vault).await.unwrap(), op.deposited);
    assert_eq!(w.total_tokens(&[]).await.unwrap(), w.minted);
}

/// Rule 2: a Token-2022 mint is accepted at initialization only when every extension it
/// carries keeps transfers exact and custody with the vault owners; one case per
/// extension. An accepted mint then carries a whole job.
#[tokio::test]
async fn only_mints_whose_transfers_are_exact_are_accepted() {
    let setup = LocalSetup {
        flavor: TokenFlavor::Token2022,
        ..LocalSetup::default()
    };
    let mut wrong = vec![];
    for case in mint_cases() {
        let mut chain = LocalChain::boot(&setup).await.unwrap();
        let mint = create_extension_mint(&mut chain, &case)
            .await
            .unwrap_or_else(|e| panic!("{}: mint creation failed: {e}", case.name));
        chain.deployment.mint = mint;
        let admin = chain.admin.insecure_clone();
        let ix = chain
            .deployment
            .stake_initialize(&admin.pubkey(), setup.stake.clone());
        let outcome = chain.send(&[ix], &[&admin]).await;
        let ok = match (&outcome, case.accepted) {
            (Ok(_), true) => {
                let ix = chain
                    .deployment
                    .initialize_config(&admin.pubkey(), setup.market.clone());
                chain.send(&[ix], &[&admin]).await.is_ok()
            }
            (Err(e), false) => e.custom_code() == custom(StakeError::UnsupportedMint as u32),
            _ => false,
        };
        if !ok {
            wrong.push(format!(
                "{}: accepted={} got {outcome:?}",
                case.name, case.accepted
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Rule 3: fees and slash shares accrue to the program-owned treasury vault. The admin
/// closes its own token account and freezes a new one (it is the mint's freeze
/// authority here, as Circle is for USDC): every exit that pays the treasury completes,
/// and the admin withdraws the revenue wherever it likes afterwards.
#[tokio::test]
async fn the_admin_closing_or_freezing_its_own_accounts_blocks_no_exit() {
    let mut w = exit_world(LocalSetup::default()).await;
    let d = w.chain.deployment;
    let admin = w.chain.admin.insecure_clone();
    let t = spl::instruction::close_account(
        &d.token_program,
        &d.token_account(&admin.pubkey()),
        &admin.pubkey(),
        &admin.pubkey(),
        &[],
    )
    .unwrap();
    w.chain.send(&[t], &[&admin]).await.unwrap();
    let frozen = Keypair::new();
    let rent = w.chain.rent_exempt_minimum(165).await.unwrap();
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &admin.pubkey(),
            &frozen.pubkey(),
            rent,
            165,
            &d.token_program,
        ),
        spl::instruction::initialize_account3(
            &d.token_program,
            &frozen.pubkey(),
            &d.mint,
            &admin.pubkey(),
        )
        .unwrap(),
        spl::instruction::freeze_account(
            &d.token_program,
            &frozen.pubkey(),
            &d.mint,
            &admin.pubkey(),
            &[],
        )
        .unwrap(),
    ];
    w.chain.send(&ixs, &[&admin, &frozen]).await.unwrap();
    let mut failures = vec![];
    for (i, exit) in [
        Exit::ClosePass,
        Exit::UpholdChallenge,
        Exit::ExpireNoShow,
        Exit::Finalize,
        Exit::ResolveOverturn,
    ]
    .into_iter()
    .enumerate()
    {
        let job = exit.prepare(&mut w, 200 + i as u64).await;
        if let Err(e) = exit.take(&mut w, &job).await {
            failures.push(format!("{exit:?}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let revenue = w.treasury_balance().await;
    assert!(revenue > 0);
    let fresh = Keypair::new().pubkey();
    w.chain.mint_to(&fresh, 0).await.unwrap();
    let ix = d.withdraw_treasury(&admin.pubkey(), &d.token_account(&fresh), revenue);
    w.chain.send(&[ix], &[&admin]).await.unwrap();
    assert_eq!(w.chain.balance_of(&fresh).await.unwrap(), revenue);
    assert_eq!(w.treasury_balance().await, 0);
}

/// Rule 3, for the parties' own accounts: a buyer (or provider) that empties and closes
/// its token account to block an exit only delays it. Exits accept any token account the
/// party owns, and anyone may create the party's associated token account, so a stranger
/// recreates it and cranks the exit.
#[tokio::test]
async fn a_party_closing_its_own_token_account_cannot_block_an_exit() {
    let mut w = exit_world(LocalSetup::default()).await;
    let d = w.chain.deployment;
    let (buyer, provider) = (w.buyer().insecure_clone(), w.providers[0].insecure_clone());
    let stranger = w.chain.new_user(0).await.unwrap();
    let open = w.post(0, World::job_args(1)).await.unwrap();
    let (challenged, _, verifier) = w.challenged_job(2).await.unwrap();
    let verifier = w.key(&verifier.unwrap()).insecure_clone();

    // The buyer and the provider empty and close their accounts before the verdict.
    close_own_token_account(&mut w, &buyer).await;
    close_own_token_account(&mut w, &provider).await;
    let attest = d
        .attest_pass(&verifier.pubkey(), &challenged, &w.job(&challenged).await)
        .unwrap();
    let blocked = w
        .chain
        .send(std::slice::from_ref(&attest), &[&verifier])
        .await;
    assert!(blocked.is_err());
    let recreate = [
        d.create_token_account(&stranger.pubkey(), &buyer.pubkey()),
        d.create_token_account(&stranger.pubkey(), &provider.pubkey()),
    ];
    w.chain.send(&recreate, &[&stranger]).await.unwrap();
    w.chain.send(&[attest], &[&verifier]).await.unwrap();
    assert!(w.chain.balance_of(&provider.pubkey()).await.unwrap() > 0);

    // The verifier closes its account to block its own fee: anyone recreates it.
    close_own_token_account(&mut w, &verifier).await;
    let state = w.job(&challenged).await;
    let slot = w.chain.slot().await.unwrap();
    w.chain
        .warp(state.step_deadline_slot + 1 - slot)
        .await
        .unwrap();
    let close = d.close_pass(&challenged, &state).unwrap();
    let blocked = w.chain.send(std::slice::from_ref(&close), &[]).await;
    assert!(blocked.is_err());
    let recreate_verifier = d.create_token_account(&stranger.pubkey(), &verifier.pubkey());
    w.chain
        .send(&[recreate_verifier], &[&stranger])
        .await
        .unwrap();
    w.chain.send(&[close], &[]).await.unwrap();
    assert_eq!(
        w.chain.balance_of(&verifier.pubkey()).await.unwrap(),
        state.verifier_fee
    );

    // The buyer closes again to block the refund of its expired job.
    close_own_token_account(&mut w, &buyer).await;
    w.chain.warp(201).await.unwrap();
    let expire = d.expire_job(&open, &w.job(&open).await);
    assert!(w
        .chain
        .send(std::slice::from_ref(&expire), &[])
        .await
        .is_err());
    w.chain.send(&recreate[..1], &[&stranger]).await.unwrap();
    w.chain.send(&[expire], &[]).await.unwrap();
    assert_eq!(
        w.chain.balance_of(&buyer.pubkey()).await.unwrap(),
        World::job_args(1).price
    );
    assert_eq!(w.total_tokens(&[]).await.unwrap(), w.minted);
}

/// `party` sends its whole balance to the donor and closes its associated token account.
async fn close_own_token_account(w: &mut World, party: &Keypair) {
    let d = w.chain.deployment;
    let account = d.token_account(&party.pubkey());
    let balance = w.chain.balance_of(&party.pubkey()).await.unwrap();
    let donor = w.donor.pubkey();
    let ixs = [
        spl::instruction::transfer_checked(
            &d.token_program,
            &account,
            &d.mint,
            &d.token_account(&donor),
            &party.pubkey(),
            &[],
            balance,
            6,
        )
        .unwrap(),
        spl::instruction::close_account(
            &d.token_program,
            &account,
            &party.pubkey(),
            &party.pubkey(),
            &[],
        )
        .unwrap(),
    ];
    w.chain.send(&ixs, &[party]).await.unwrap();
}

/// Rule 4: whoever sees the deployment first cannot make itself admin or pick the mint:
/// only the key fixed at build time (`ASSAY_DEPLOYER`) initializes either program.
#[tokio::test]
async fn only_the_build_time_deployer_can_initialize_either_program() {
    let setup = LocalSetup::default();
    let mut chain = LocalChain::boot(&setup).await.unwrap();
    let d = chain.deployment;
    let stranger = chain.new_user(0).await.unwrap();
    let ix = d.stake_initialize(&stranger.pubkey(), setup.stake.clone());
    let err = chain.send(&[ix], &[&stranger]).await.unwrap_err();
    assert_eq!(err.custom_code(), custom(StakeError::NotDeployer as u32));
    let admin = chain.admin.insecure_clone();
    let ix = d.stake_initialize(&admin.pubkey(), setup.stake.clone());
    chain.send(&[ix], &[&admin]).await.unwrap();
    let ix = d.initialize_config(&stranger.pubkey(), setup.market.clone());
    let err = chain.send(&[ix], &[&stranger]).await.unwrap_err();
    assert_eq!(err.custom_code(), custom(MarketError::NotDeployer as u32));
    let ix = d.initialize_config(&admin.pubkey(), setup.market.clone());
    chain.send(&[ix], &[&admin]).await.unwrap();
    assert_eq!(chain.market_config().await.unwrap().admin, admin.pubkey());
}

/// Rule 5: lamports sent to an address before the program creates an account there
/// (the least the runtime allows, or more than its rent) never block the creation. Covers every kind of
/// account the programs create; the owner afterwards is the right program.
#[tokio::test]
async fn pre_funded_addresses_never_block_their_creation() {
    let setup = LocalSetup::default();
    let mut chain = LocalChain::boot(&setup).await.unwrap();
    // The least anyone can send to an empty address (the runtime refuses to leave a
    // system account below rent exemption), and far more than any account's rent.
    let least = chain.rent_exempt_minimum(0).await.unwrap();
    let ten_sol = 10_000_000_000;
    let config_kinds = [
        ("stake config", pda::stake_config(), assay_stake::ID),
        (
            "verifier registry",
            pda::verifier_registry(),
            assay_stake::ID,
        ),
        ("market config", pda::market_config(), assay_market::ID),
        (
            "treasury vault",
            pda::treasury(),
            chain.deployment.token_program,
        ),
    ];
    for (i, (_, address, _)) in config_kinds.iter().enumerate() {
        let lamports = if i % 2 == 0 { least } else { ten_sol };
        chain.airdrop(address, lamports).await.unwrap();
    }
    chain.initialize(&setup).await.unwrap();
    let d = chain.deployment;
    let user = chain.new_user(STARTING_TOKENS).await.unwrap();
    let job = pda::job(&user.pubkey(), 1);
    let user_kinds = [
        ("operator", pda::operator(&user.pubkey()), assay_stake::ID),
        (
            "stake vault",
            pda::stake_vault(&pda::operator(&user.pubkey())),
            d.token_program,
        ),
        ("job", job, assay_market::ID),
        ("job vault", pda::job_vault(&job), d.token_program),
    ];
    for (i, (_, address, _)) in user_kinds.iter().enumerate() {
        let lamports = if i % 2 == 0 { least } else { ten_sol };
        chain.airdrop(address, lamports).await.unwrap();
    }
    let ixs = [
        d.register_operator(&user.pubkey(), ROLE_VERIFIER),
        d.deposit(&user.pubkey(), OPERATOR_STAKE),
        d.post_job(&user.pubkey(), World::job_args(1)),
    ];
    chain.send(&ixs, &[&user]).await.unwrap();
    for (name, address, owner) in config_kinds.iter().chain(&user_kinds) {
        let account = chain.account(address).await.unwrap();
        assert_eq!(account.map(|a| a.owner), Some(*owner), "{name}");
    }
    assert_eq!(
        chain.token_balance(&pda::job_vault(&job)).await.unwrap(),
        World::job_args(1).price
    );
    // The donated lamports leave with the rent when the job closes.
    let ix = d.cancel_job(&user.pubkey(), 1);
    chain.send(&[ix], &[&user]).await.unwrap();
    assert!(chain.account(&job).await.unwrap().is_none());
}

/// Lamports sent to a job's or operator's address before it exists or after it closed
/// leave a system account there: clients must read it as "no job" / "no operator", not
/// fail to decode it (else anyone could break `assay job status` for 0.001 SOL).
#[tokio::test]
async fn donated_lamports_at_a_closed_or_future_address_read_as_absent() {
    let setup = LocalSetup::default();
    let mut chain = LocalChain::start(setup).await.unwrap();
    let d = chain.deployment;
    let user = chain.new_user(STARTING_TOKENS).await.unwrap();
    let job = pda::job(&user.pubkey(), 1);
    let least = chain.rent_exempt_minimum(0).await.unwrap();
    for address in [job, pda::operator(&user.pubkey())] {
        chain.airdrop(&address, least).await.unwrap();
    }
    assert!(chain.job(&job).await.unwrap().is_none());
    assert!(chain.operator(&user.pubkey()).await.unwrap().is_none());
    let ixs = [
        d.register_operator(&user.pubkey(), ROLE_VERIFIER),
        d.deposit(&user.pubkey(), OPERATOR_STAKE),
        d.post_job(&user.pubkey(), World::job_args(1)),
    ];
    chain.send(&ixs, &[&user]).await.unwrap();
    assert!(chain.job(&job).await.unwrap().is_some());
    chain
        .send(&[d.cancel_job(&user.pubkey(), 1)], &[&user])
        .await
        .unwrap();
    chain.airdrop(&job, least).await.unwrap();
    assert!(chain.job(&job).await.unwrap().is_none());
    assert!(chain.jobs().await.unwrap().is_empty());
}

/// Rule 6: the stake admin lowers `min_verifier_stake` below the market's bond and a
/// verifier too light for the bond enters the registry. A drawn verifier whose weight is
/// below the job's bond forfeits its turn, so `draw_challenge` never tries a lock that
/// fails (before, the job sat in Committed with no exit). Then the admin raises the
/// minimum above every stake and lengthens the cooldown: stale entries are never drawn,
/// anyone prunes them, and a pending unstake keeps its ready slot.
#[tokio::test]
async fn no_parameter_change_strands_a_job_or_a_stake() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 1).await.unwrap();
    let (d, admin) = (w.chain.deployment, w.chain.admin.insecure_clone());
    let v = w.verifiers[0].insecure_clone();
    let ix = d.request_unstake(&v.pubkey(), OPERATOR_STAKE - 500_000);
    w.chain.send(&[ix], &[&v]).await.unwrap();
    let lowered = UpdateConfigArgs {
        min_verifier_stake: 0,
        ..LocalSetup::default().stake.tunables()
    };
    let ix = d.stake_update_config(&admin.pubkey(), lowered);
    w.chain.send(&[ix], &[&admin]).await.unwrap();
    let ix = d.sync_verifier(&v.pubkey());
    w.chain.send(&[ix], &[]).await.unwrap();
    let registry = w.chain.registry().await.unwrap();
    assert_eq!(
        registry.entries().len(),
        1,
        "the light verifier is in the registry"
    );
    assert!(registry.entries()[0].next_weight < LocalSetup::default().market.verifier_bond);
    w.chain.next_epoch().await.unwrap();

    let (job, _, _) = w.challenged_job(1).await.unwrap();
    let state = w.job(&job).await;
    assert_eq!(
        (state.verifier, state.past_verifiers.clone()),
        (None, vec![v.pubkey()]),
        "a verifier lighter than the bond forfeits its turn: no lock is tried"
    );
    // The next round finds nobody else: the job may finalize.
    assert_eq!(state.state, JobState::Committed);
    assert_eq!(w.chain.crank_draw(&job).await.unwrap(), None);
    let state = w.job(&job).await;
    assert_eq!((state.state, state.verifier), (JobState::Challenged, None));
    w.chain.warp(1).await.unwrap();
    let ix = d.finalize(&job, &state);
    w.chain.send(&[ix.unwrap()], &[]).await.unwrap();
    w.chain.crank_close_pass(&job).await.unwrap();
    assert!(w.chain.job(&job).await.unwrap().is_none());

    let raised = UpdateConfigArgs {
        min_verifier_stake: u64::MAX,
        unstake_cooldown_slots: assay_stake::constants::MAX_UNSTAKE_COOLDOWN_SLOTS,
    };
    let ix = d.stake_update_config(&admin.pubkey(), raised);
    w.chain.send(&[ix], &[&admin]).await.unwrap();
    let ix = d.sync_verifier(&v.pubkey());
    w.chain.send(&[ix], &[]).await.unwrap();
    let registry = w.chain.registry().await.unwrap();
    assert!(
        registry.entries().iter().all(|e| e.next_weight == 0),
        "below the new minimum: out from the next epoch"
    );
    w.chain.warp(101).await.unwrap();
    let ix = d.withdraw(&v.pubkey());
    w.chain.send(&[ix], &[&v]).await.unwrap();
    assert_eq!(w.total_tokens(&[]).await.unwrap(), w.minted);
}

/// Rule 7: registering as a verifier costs only rent, so registrations alone take no
/// registry slot; a slot needs the minimum verifier stake. After 100 zero-stake
/// registrations an honest verifier still joins and is drawn.
#[tokio::test]
async fn zero_stake_registrations_cannot_fill_the_registry() {
    let mut w = World::new(LocalSetup::default(), 1, 1, 0).await.unwrap();
    let d = w.chain.deployment;
    for _ in 0..100 {
        let sybil = Keypair::new();
        w.chain.airdrop(&sybil.pubkey(), 100_000_000).await.unwrap();
        let ix = d.register_operator(&sybil.pubkey(), ROLE_VERIFIER);
        w.chain.send(&[ix], &[&sybil]).await.unwrap();
    }
    assert!(w.chain.registry().await.unwrap().entries().is_empty());
    let honest = w.operator(ROLE_VERIFIER).await.unwrap();
    let registry = w.chain.registry().await.unwrap();
    assert_eq!(registry.entries().len(), 1);
    let holders = w.chain.slot_holders(&registry).await.unwrap();
    assert_eq!(holders[&registry.entries()[0].slot], honest.pubkey());
    w.chain.next_epoch().await.unwrap();
    let (_, _, drawn) = w.challenged_job(1).await.unwrap();
    assert_eq!(drawn, Some(honest.pubkey()));
}
