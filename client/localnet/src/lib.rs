//! `assay localnet`: both Assay programs, as the SBF shared objects `scripts/sbf/build.sh`
//! builds, hosted in [Surfpool](https://github.com/solana-foundation/surfpool) — the local
//! Solana validator built on LiteSVM that Solana's docs point developers to — with the
//! payment mint and both configs initialized by ordinary transactions.
//!
//! Surfpool serves the standard JSON-RPC API on one port and the standard websocket
//! subscriptions on another, so the clients Solana developers already use (web3.js,
//! @coral-xyz/anchor, @solana/kit, the Rust `solana-rpc-client` and `solana-pubsub-client`)
//! work against it unchanged: transaction history, v0 transactions, program logs in
//! transaction logs. It runs offline (no mainnet fork); its slots advance on a clock.
//!
//! Its JSON-RPC port is a small front ([`front`]) that forwards to Surfpool and corrects
//! what Surfpool answers differently from a validator in ways web3.js users hit (batches,
//! `getBlock`'s default encoding); the websocket port is Surfpool's own.
//!
//! The in-process bank over HTTP (`assay_testkit::localnet`, `assay localnet --embedded`)
//! stays for tests that inject RPC faults.

pub mod front;

use std::path::{Path, PathBuf};
use std::time::Duration;

use assay_client::chain::ChainError;
use assay_client::deploy::LocalSetup;
use assay_client::ix::Deployment;
use assay_client::rpc::{RpcChain, RpcOptions};
use crossbeam_channel::{unbounded, Receiver, RecvTimeoutError};
use solana_program_binaries::bpf_loader_upgradeable_program_accounts;
use solana_sdk::native_token::LAMPORTS_PER_SOL;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::rent::Rent;
use solana_sdk::signature::{Keypair, Signer};
use surfpool_core::surfnet::svm::{SurfnetSvm, SurfnetSvmConfig};
use surfpool_types::{RpcConfig, SimnetConfig, SimnetEvent, SurfpoolConfig};
use tracing::{debug, info, warn};

/// SOL the admin (development deployer, mint authority, faucet) starts with.
pub const ADMIN_SOL: u64 = 100_000;

/// How long Surfpool may take to come up before [`Surfnet::start`] gives up.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    #[error("cannot read {path}: {source} (build the SBF programs with scripts/sbf/build.sh, or point --programs at a directory holding assay_stake.so and assay_market.so)")]
    MissingProgram {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("surfpool: {0}")]
    Surfpool(String),
    #[error("surfpool did not report ready within {0:?}")]
    Startup(Duration),
    #[error("setting up the deployment: {0}")]
    Deploy(#[from] ChainError),
}

/// Where and how to run the validator.
#[derive(Debug, Clone)]
pub struct SurfnetOptions {
    /// Address to bind both servers to.
    pub bind: String,
    /// JSON-RPC (HTTP) port; 0 picks a free one.
    pub rpc_port: u16,
    /// Websocket (subscriptions) port; 0 picks a free one.
    pub ws_port: u16,
    /// Wall-clock milliseconds per slot.
    pub slot_ms: u64,
    /// Directory holding `assay_stake.so` and `assay_market.so`.
    pub programs: PathBuf,
    /// Protocol settings for the deployment.
    pub setup: LocalSetup,
}

impl SurfnetOptions {
    /// Solana's usual local ports (8899, 8900), 400 ms slots, the SBF programs where
    /// [`assay_client::deploy::sbf_programs_dir`] finds them and the default local protocol settings.
    pub fn new() -> Self {
        Self {
            bind: "127.0.0.1".into(),
            rpc_port: 8899,
            ws_port: 8900,
            slot_ms: 400,
            programs: assay_client::deploy::sbf_programs_dir(),
            setup: LocalSetup::default(),
        }
    }

    /// [`Self::new`] on ports the system picks (what tests and several local chains on
    /// one machine need).
    pub fn on_free_ports() -> Self {
        Self {
            rpc_port: 0,
            ws_port: 0,
            ..Self::new()
        }
    }
}

impl Default for SurfnetOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// A running Surfpool with Assay deployed. It runs on its own threads until the process
/// exits.
pub struct Surfnet {
    /// The JSON-RPC endpoint users are given: the front before Surfpool.
    pub rpc_url: String,
    /// Surfpool's own JSON-RPC endpoint, behind the front (uncorrected).
    pub surfpool_url: String,
    pub ws_url: String,
    pub deployment: Deployment,
    /// The development deployer: admin of both configs, mint and freeze authority of the
    /// payment mint, and the faucet's source of SOL.
    pub admin: Keypair,
    /// The directory the programs were loaded from.
    pub programs: PathBuf,
}

impl Surfnet {
    /// Starts Surfpool with both programs loaded, waits until it serves, then creates the
    /// payment mint and initializes both programs through its RPC endpoint.
    pub async fn start(options: SurfnetOptions) -> Result<Self, LocalnetError> {
        let admin = assay_client::keys::dev_deployer();
        let programs = load_programs(&options.programs)?;
        // The front holds the port users are given; Surfpool serves behind it.
        let front_listener = std::net::TcpListener::bind((options.bind.as_str(), options.rpc_port))
            .map_err(|e| {
                LocalnetError::Surfpool(format!(
                    "cannot listen on {}:{}: {e}",
                    options.bind, options.rpc_port
                ))
            })?;
        let surfpool_port = port_or_free(&options.bind, 0)?;
        let ws_port = port_or_free(&options.bind, options.ws_port)?;
        let (mut svm, events, geyser) = SurfnetSvm::new(SurfnetSvmConfig {
            slot_time: options.slot_ms,
            ..SurfnetSvmConfig::default()
        })
        .map_err(|e| LocalnetError::Surfpool(e.to_string()))?;
        // As a cluster holds a deployed program (and as the embedded bank does): the
        // upgradeable loader's ProgramData, then the program account naming it.
        for (id, elf) in programs {
            let accounts = bpf_loader_upgradeable_program_accounts(&id, &elf, &Rent::default());
            for (address, account) in accounts.into_iter().rev() {
                svm.set_account(&address, account)
                    .map_err(|e| LocalnetError::Surfpool(format!("loading program {id}: {e}")))?;
            }
        }
        let config = SurfpoolConfig {
            simnets: vec![SimnetConfig {
                offline_mode: true,
                remote_rpc_url: None,
                slot_time: options.slot_ms,
                airdrop_addresses: vec![admin.pubkey()],
                airdrop_token_amount: ADMIN_SOL * LAMPORTS_PER_SOL,
                ..SimnetConfig::default()
            }],
            rpc: RpcConfig {
                bind_host: options.bind.clone(),
                bind_port: surfpool_port,
                ws_port,
                ..RpcConfig::default()
            },
            ..SurfpoolConfig::default()
        };
        let (commands_tx, commands_rx) = unbounded();
        std::thread::Builder::new()
            .name("surfpool".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => return warn!(error = %e, "surfpool: no runtime"),
                };
                if let Err(e) = runtime.block_on(surfpool_core::start_local_surfnet(
                    svm,
                    config,
                    commands_tx,
                    commands_rx,
                    geyser,
                )) {
                    warn!(error = %e, "surfpool stopped");
                }
            })
            .map_err(|e| LocalnetError::Surfpool(e.to_string()))?;
        wait_ready(&events)?;
        std::thread::Builder::new()
            .name("surfpool-events".into())
            .spawn(move || log_events(events))
            .map_err(|e| LocalnetError::Surfpool(e.to_string()))?;

        let surfpool_url = format!("http://{}:{surfpool_port}", options.bind);
        let front = front::spawn(front_listener, surfpool_url.clone())
            .map_err(|e| LocalnetError::Surfpool(format!("rpc front: {e}")))?;
        let rpc_url = format!("http://{}:{}", options.bind, front.port());
        let ws_url = format!("ws://{}:{ws_port}", options.bind);
        let deployment = deploy(&rpc_url, &ws_url, &admin, &options.setup).await?;
        info!(%rpc_url, %ws_url, mint = %deployment.mint, "surfpool localnet ready");
        Ok(Self {
            rpc_url,
            surfpool_url,
            ws_url,
            deployment,
            admin,
            programs: options.programs,
        })
    }
}

/// Both programs' ELF files, by program id.
fn load_programs(dir: &Path) -> Result<Vec<(Pubkey, Vec<u8>)>, LocalnetError> {
    [
        ("assay_stake.so", assay_stake::ID),
        ("assay_market.so", assay_market::ID),
    ]
    .into_iter()
    .map(|(file, id)| {
        let path = dir.join(file);
        std::fs::read(&path)
            .map(|elf| (id, elf))
            .map_err(|source| LocalnetError::MissingProgram { path, source })
    })
    .collect()
}

/// `port`, or a port free right now when it is 0 (Surfpool needs a number up front).
fn port_or_free(bind: &str, port: u16) -> Result<u16, LocalnetError> {
    if port != 0 {
        return Ok(port);
    }
    std::net::TcpListener::bind((bind, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| LocalnetError::Surfpool(format!("no free port on {bind}: {e}")))
}

fn wait_ready(events: &Receiver<SimnetEvent>) -> Result<(), LocalnetError> {
    let deadline = std::time::Instant::now() + STARTUP_TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match events.recv_timeout(left) {
            Ok(SimnetEvent::Ready(_)) => return Ok(()),
            Ok(SimnetEvent::Aborted(why)) => return Err(LocalnetError::Surfpool(why)),
            Ok(SimnetEvent::ErrorLog(_, message)) => return Err(LocalnetError::Surfpool(message)),
            Ok(other) => debug!(event = ?other, "surfpool starting"),
            Err(RecvTimeoutError::Timeout) => return Err(LocalnetError::Startup(STARTUP_TIMEOUT)),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(LocalnetError::Surfpool("stopped while starting".into()))
            }
        }
    }
}

/// Surfpool's own log lines, as tracing events (clock ticks and the like are dropped).
fn log_events(events: Receiver<SimnetEvent>) {
    for event in events {
        match event {
            SimnetEvent::ErrorLog(_, message) => warn!(target: "surfpool", "{message}"),
            SimnetEvent::WarnLog(_, message) => warn!(target: "surfpool", "{message}"),
            SimnetEvent::InfoLog(_, message) => debug!(target: "surfpool", "{message}"),
            SimnetEvent::Aborted(why) => warn!(target: "surfpool", "aborted: {why}"),
            _ => {}
        }
    }
}

/// Creates the payment mint (admin as authority) and the admin's token account, and
/// initializes both programs, through the RPC endpoint.
async fn deploy(
    url: &str,
    ws_url: &str,
    admin: &Keypair,
    setup: &LocalSetup,
) -> Result<Deployment, ChainError> {
    let mint = Keypair::new();
    let deployment = Deployment {
        mint: mint.pubkey(),
        token_program: setup.flavor.program_id(),
        treasury: assay_client::pda::treasury(),
    };
    let options = RpcOptions {
        ws_url: Some(ws_url.to_string()),
        ..RpcOptions::default()
    };
    let mut chain = RpcChain::with_deployment(url, admin.insecure_clone(), options, deployment);
    assay_client::deploy::create_mint(
        &mut chain,
        admin,
        &mint,
        deployment.token_program,
        setup.decimals,
    )
    .await?;
    assay_client::deploy::mint_tokens(
        &mut chain,
        admin,
        &deployment.mint,
        &deployment.token_program,
        &admin.pubkey(),
        0,
    )
    .await?;
    assay_client::deploy::initialize_programs(&mut chain, admin, setup).await?;
    Ok(deployment)
}
