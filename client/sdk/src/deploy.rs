//! Setting up a deployment on any [`Chain`]: the payment mint and both programs'
//! configs, as the test kit's embedded bank and `assay localnet` (Surfpool) both do; the
//! protocol settings a fresh deployment ships with ([`LocalSetup`]); and where the SBF
//! programs are found ([`sbf_programs_dir`]).
//!
//! The programs themselves must already be loaded at their addresses; everything here is
//! ordinary transactions signed by the admin (the development deployer on local chains).

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::entrypoint::MAX_PERMITTED_DATA_INCREASE;
use assay_stake::state::VerifierRegistry;
use solana_sdk::instruction::Instruction;
use solana_sdk::program_pack::Pack;
use solana_sdk::signature::{Keypair, Signer};

use crate::chain::{Chain, ChainError};
use crate::ix::Deployment;
use assay_market::state::MarketParams;
use assay_stake::instructions::InitializeArgs;
use std::path::PathBuf;

/// Which token program the payment mint lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFlavor {
    Token,
    Token2022,
}

impl TokenFlavor {
    pub fn program_id(self) -> Pubkey {
        match self {
            TokenFlavor::Token => anchor_spl::token::ID,
            TokenFlavor::Token2022 => anchor_spl::token_2022::ID,
        }
    }
}

/// Draw epoch of a [`LocalSetup`], slots: stake changes reach the draws within this many
/// slots (about 100 s at the local chain's 400 ms slots).
pub const DEFAULT_EPOCH_SLOTS: u64 = 256;

/// Draw window of a [`LocalSetup`], slots: every draw is cranked within this many slots
/// of its seed slot (about 38 s at 400 ms slots) or lapses. Shorter than the epoch, so
/// arming moves a seed slot to the next epoch only when the window would cross a
/// boundary (at most this many slots later).
pub const DEFAULT_DRAW_WINDOW_SLOTS: u64 = 96;

/// Protocol settings for a fresh local deployment.
#[derive(Debug, Clone)]
pub struct LocalSetup {
    pub flavor: TokenFlavor,
    pub decimals: u8,
    pub stake: InitializeArgs,
    pub market: MarketParams,
    /// Native entrypoints or SBF shared objects; `None`: as [`ProgramMode::from_env`] says.
    pub programs: Option<ProgramMode>,
}

impl Default for LocalSetup {
    fn default() -> Self {
        Self {
            flavor: TokenFlavor::Token,
            decimals: 6,
            stake: InitializeArgs {
                // At least one draw epoch (`CooldownShorterThanEpoch`).
                unstake_cooldown_slots: DEFAULT_EPOCH_SLOTS,
                min_verifier_stake: 1_000_000,
                epoch_slots: DEFAULT_EPOCH_SLOTS,
            },
            market: MarketParams {
                // The verifier's pay: 5 % of the price, plus the price of every sampled
                // chunk (so re-executing the sample is always paid), at least 0.01 token.
                verifier_fee_bps: 500,
                sample_fee_bps: 10_000,
                min_verifier_fee: 10_000,
                protocol_fee_bps: 100,
                finder_fee_bps: 2_000,
                treasury_slash_bps: 1_000,
                // A job's bond is 50 verifier fees (at least 1 token): with 2 % canaries
                // planting enough to be sampled 9 times in 10, a blind pass loses.
                verifier_bond: 1_000_000,
                bond_fee_multiple: 50,
                verifier_miss_penalty: 250_000,
                // Collateral at least 3.2 × the price: a fully faked job loses even when
                // only a fisherman (a quarter of passes re-checked) can catch it.
                min_collateral_bps: 32_000,
                challenge_delay_slots: 2,
                draw_window_slots: DEFAULT_DRAW_WINDOW_SLOTS,
                verdict_window_slots: 50,
                dispute_window_slots: 50,
                vote_window_slots: 50,
                pass_window_slots: 50,
                max_verifier_rounds: 2,
                committee_size: 3,
                min_samples: 1,
            },
            programs: None,
        }
    }
}

impl LocalSetup {
    /// These settings with draw epochs of `epoch_slots` (and the unstake cooldown raised
    /// to one epoch if it was shorter, as the stake program requires).
    pub fn with_epoch_slots(mut self, epoch_slots: u64) -> Self {
        self.stake.epoch_slots = epoch_slots;
        self.stake.unstake_cooldown_slots = self.stake.unstake_cooldown_slots.max(epoch_slots);
        self
    }
}

/// How a local bank (the test kit's embedded chain) runs the two Assay programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramMode {
    /// The programs' entrypoints compiled into this binary, called by the bank as builtins:
    /// no compute-unit metering and no SBF stack limit for our code.
    Native,
    /// `assay_stake.so` and `assay_market.so` from this directory, run by the SBF VM as a
    /// cluster would (metered, 4 KiB frames, 32 KiB heap).
    Sbf(PathBuf),
}

impl ProgramMode {
    /// The variable that selects the mode: `native` (default) or `sbf`.
    pub const VAR: &'static str = "ASSAY_PROGRAMS";
    /// Where SBF mode reads the `.so` files (default: [`sbf_programs_dir`]).
    pub const DIR_VAR: &'static str = "ASSAY_SBF_DIR";

    /// The mode `ASSAY_PROGRAMS` / `ASSAY_SBF_DIR` ask for; an unknown value is an error.
    pub fn from_env() -> Result<Self, ChainError> {
        Self::parse(
            std::env::var(Self::VAR).ok().as_deref(),
            std::env::var_os(Self::DIR_VAR).map(PathBuf::from),
        )
    }

    /// The mode for a value of `ASSAY_PROGRAMS` and of `ASSAY_SBF_DIR`.
    pub fn parse(mode: Option<&str>, sbf_dir: Option<PathBuf>) -> Result<Self, ChainError> {
        match mode {
            None | Some("") | Some("native") => Ok(Self::Native),
            Some("sbf") => Ok(Self::Sbf(sbf_dir.unwrap_or_else(sbf_programs_dir))),
            Some(other) => Err(ChainError::Client(format!(
                "{}={other}: expected `native` or `sbf`",
                Self::VAR
            ))),
        }
    }

    pub fn is_sbf(&self) -> bool {
        matches!(self, Self::Sbf(_))
    }
}

impl std::fmt::Display for ProgramMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Native => f.write_str("native (entrypoints compiled in; not metered)"),
            Self::Sbf(dir) => write!(f, "SBF from {} (metered, 4 KiB frames)", dir.display()),
        }
    }
}

/// The folder holding `assay_stake.so` and `assay_market.so`: the one rule every host
/// follows (the embedded bank in SBF mode, `assay localnet`, the benches).
/// `ASSAY_SBF_DIR` if set; else the `deploy` folder of the cargo target directory the
/// running binary sits in (`target/<profile>/assay` or `target/<profile>/deps/<test>` →
/// `target/deploy`, where `scripts/sbf/build.sh` writes them); else `./target/deploy`.
/// No path of the build machine is compiled in.
pub fn sbf_programs_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(ProgramMode::DIR_VAR) {
        return dir.into();
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .map(|dir| dir.join("deploy"))
                .find(|deploy| deploy.join("assay_market.so").is_file())
        })
        .unwrap_or_else(|| PathBuf::from("target/deploy"))
}

/// `grow_registry` instructions per transaction (each adds 10 KiB).
const GROW_STEPS_PER_TRANSACTION: usize = 14;

/// Creates and initializes `mint` under `token_program`, with `admin` as mint and freeze
/// authority (as the issuer of USDC holds both). `admin` pays the rent.
pub async fn create_mint<C: Chain + ?Sized>(
    chain: &mut C,
    admin: &Keypair,
    mint: &Keypair,
    token_program: Pubkey,
    decimals: u8,
) -> Result<(), ChainError> {
    let mint_len = anchor_spl::token::spl_token::state::Mint::LEN;
    let create = anchor_lang::solana_program::system_instruction::create_account(
        &admin.pubkey(),
        &mint.pubkey(),
        solana_sdk::rent::Rent::default().minimum_balance(mint_len),
        mint_len as u64,
        &token_program,
    );
    let init = anchor_spl::token_2022::spl_token_2022::instruction::initialize_mint2(
        &token_program,
        &mint.pubkey(),
        &admin.pubkey(),
        Some(&admin.pubkey()),
        decimals,
    )
    .map_err(|e| ChainError::Client(e.to_string()))?;
    chain.send(&[create, init], &[admin, mint]).await.map(drop)
}

/// Mints `amount` (base units) of an `admin`-controlled `mint` to `owner`'s associated
/// token account, creating the account if needed.
pub async fn mint_tokens<C: Chain + ?Sized>(
    chain: &mut C,
    admin: &Keypair,
    mint: &Pubkey,
    token_program: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<(), ChainError> {
    let other = Deployment {
        mint: *mint,
        token_program: *token_program,
        treasury: Pubkey::default(),
    };
    let ixs = other.mint_to(&admin.pubkey(), owner, amount);
    chain.send(&ixs, &[admin]).await.map(drop)
}

/// Initializes both programs with `setup`'s parameters, signed by `admin` (which must be
/// the programs' deployer): the stake config, the verifier registry grown to full size,
/// and the market config (which creates the treasury vault).
pub async fn initialize_programs<C: Chain + ?Sized>(
    chain: &mut C,
    admin: &Keypair,
    setup: &LocalSetup,
) -> Result<(), ChainError> {
    let d = chain.deployment();
    chain
        .send(
            &[d.stake_initialize(&admin.pubkey(), setup.stake.clone())],
            &[admin],
        )
        .await?;
    // The registry is created at 10 KiB and grown to full size, 10 KiB per instruction.
    let steps = VerifierRegistry::SIZE.div_ceil(MAX_PERMITTED_DATA_INCREASE) - 1;
    let grow: Vec<Instruction> = (0..steps)
        .map(|_| d.grow_registry(&admin.pubkey()))
        .collect();
    for batch in grow.chunks(GROW_STEPS_PER_TRANSACTION) {
        chain.send(batch, &[admin]).await?;
    }
    chain
        .send(
            &[d.initialize_config(&admin.pubkey(), setup.market.clone())],
            &[admin],
        )
        .await?;
    Ok(())
}
