//! `assay`: the Assay command line.

mod canary;
mod common;
mod demo;
mod economics;
mod history;
mod job;
mod localnet;
mod model;
mod provider;
mod report;
mod stake;
mod template;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use report::{printed, Outcome};

#[derive(Parser)]
#[command(
    name = "assay",
    version,
    about = "Audited GPU compute, settled on Solana",
    long_about = "Assay: buyers escrow payment on Solana, staked providers run GPU jobs, staked \
verifiers re-execute a random sample of every job and release payment or slash stake.\n\n\
Logs go to stderr; set RUST_LOG=info (or debug) for more."
)]
struct Cli {
    /// Print machine-readable JSON instead of the human report.
    #[arg(long, global = true)]
    json: bool,
    #[command(flatten)]
    net: common::Net,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a whole market on an embedded local chain: real GPU jobs (matmul, hash mixer,
    /// rendered tiles), an honest and a cheating provider, a verifier that catches and
    /// slashes the cheater, and a report (plus PNGs of the rendered image).
    Demo(demo::DemoArgs),
    /// How likely a sample catches a cheat, and the smallest sample count that makes
    /// cheating a losing bet for given price, collateral and provider cost; then how likely
    /// an attacker with a share of the verifier stake is its own verifier or holds a
    /// committee majority, and the committee size and bond range that withstand it.
    Economics(economics::EconomicsArgs),
    /// Buyer: post jobs, follow them, fetch and check their results.
    #[command(subcommand)]
    Job(job::JobCommand),
    /// Buyer: audited inference. Compile an ONNX model and a batch of inputs into a job,
    /// and read a model job's outputs back (classes, accuracy, a reference under the bound).
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Operator: deposit, unstake, withdraw and show stake.
    #[command(subcommand)]
    Stake(stake::StakeCommand),
    /// Operator: the provider worker.
    #[command(subcommand)]
    Provider(ProviderCommand),
    /// Operator: run canary jobs (planted faults under three unlinked keys) and challenge
    /// every pass that missed them, so verifiers that sign without re-executing lose their
    /// bond (docs/economics.md, "Lazy verifiers").
    #[command(subcommand)]
    Canary(CanaryCommand),
    /// Run a local validator (Surfpool) with both programs as SBF, the payment mint and
    /// configs set up: JSON-RPC on --port, websocket on --port + 1.
    Localnet(localnet::LocalnetArgs),
    /// Localnet: send payment tokens and SOL to an address (needs the mint authority).
    Faucet(localnet::FaucetArgs),
    /// Show an address's payment-token and SOL balances.
    Balance(localnet::BalanceArgs),
    /// Write a new keypair file (Solana CLI format).
    Keygen(localnet::KeygenArgs),
}

#[derive(Subcommand)]
enum ProviderCommand {
    /// Claim open jobs, run them on the GPU, publish outputs and commit results, until
    /// stopped (SIGINT/SIGTERM stop it between jobs; a restart resumes claimed jobs).
    Run(provider::RunArgs),
}

#[derive(Subcommand)]
enum CanaryCommand {
    /// Launch canary jobs, then watch them until each has closed (or --timeout-s):
    /// challenge passes of planted chunks, concede faults honest verifiers found.
    Run(canary::CanaryArgs),
}

/// Runs an async command on a fresh runtime.
fn block_on<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(fut)
}

fn main() -> ExitCode {
    // Mesa's Vulkan device-select layer complains without XDG_RUNTIME_DIR; it is not
    // needed to pick an adapter (wgpu ranks them itself).
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    let cli = Cli::parse();
    // The demo tells its roles' story itself; their operational warnings (a fault found,
    // a pass challenged) would repeat it out of order.
    let roles = match cli.command {
        Command::Demo(_) => ",assay_node=error",
        _ => "",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                format!("warn,onnx_ir=error,assay_gpu=error,solana=error,solana_runtime=error,tarpc=error{roles}").into()
            }),
        )
        .init();
    let json = cli.json;
    let outcome: Outcome = match cli.command {
        Command::Demo(args) => printed(demo::run(args, json)),
        Command::Economics(mut args) => {
            args.url_given = cli.net.connection.url.is_some();
            block_on(economics::run(args, &cli.net))
        }
        Command::Job(c) => block_on(job::run(c, &cli.net, json)),
        Command::Model(c) => model::run(c),
        Command::Stake(c) => block_on(stake::run(c, &cli.net, json)),
        Command::Provider(ProviderCommand::Run(a)) => {
            printed(block_on(provider::run(a, &cli.net, json)))
        }
        Command::Canary(CanaryCommand::Run(a)) => block_on(canary::run(a, &cli.net, json)),
        Command::Localnet(a) => printed(block_on(localnet::localnet(a, json))),
        Command::Faucet(a) => block_on(localnet::faucet(a, &cli.net)),
        Command::Balance(a) => block_on(localnet::balance(a, &cli.net)),
        Command::Keygen(a) => localnet::keygen(a),
    };
    match outcome {
        Ok(report) => {
            if let Some(report) = report {
                report::render(&*report, json);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where outputs go by default.
pub fn default_out_dir() -> PathBuf {
    PathBuf::from("assay-demo")
}
