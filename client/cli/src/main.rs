//! `assay`: the Assay command line.

mod demo;
mod economics;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// cheating a losing bet for given price, collateral and provider cost.
    Economics(economics::EconomicsArgs),
}

fn main() -> ExitCode {
    // Mesa's Vulkan device-select layer complains without XDG_RUNTIME_DIR; it is not
    // needed to pick an adapter (wgpu ranks them itself).
    if std::env::var_os("NODEVICE_SELECT").is_none() {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                "warn,assay_gpu=error,solana=error,solana_runtime=error,tarpc=error".into()
            }),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(args, cli.json),
        Command::Economics(args) => economics::run(args, cli.json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
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
