//! Assay's test kit: everything that hosts a chain for tests, benches and local use, kept
//! out of the SDK so that a buyer's client and the verifier binary carry no bank.
//!
//! - [`embedded`]: [`embedded::LocalChain`], an in-process Solana bank (solana-program-test)
//!   with both programs, natively or as SBF ([`assay_client::deploy::ProgramMode`]),
//!   implementing the SDK's [`assay_client::Chain`].
//! - [`shared`]: [`shared::SharedChain`], one such chain shared by several roles at once,
//!   logging the events of every transaction they land.
//! - [`localnet`]: a JSON-RPC endpoint backed by that bank (`assay localnet --embedded`).
//! - [`faults`]: RPC faults injected by that endpoint or by a proxy in front of any
//!   endpoint, for testing clients.

pub mod embedded;
pub mod faults;
pub mod localnet;
pub mod shared;
