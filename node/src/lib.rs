//! assay-node: every off-chain role of an Assay operator, as a library the binaries
//! compose — the verifier's audit and its daemon (run by the `assay-verifier` binary), the
//! provider worker (`assay provider run`) and the canary operator (`assay canary run`).
//!
//! The verifier's work on one assignment ([`audit`]): it reads a provider's publication (`assay_gpu::publication`: one blob per chunk
//! output and a `ResultIndex` of them, named by the job's `output_uri`), checks its leaves
//! against the committed root, fetches only the sampled chunks, re-executes exactly those
//! on the GPU engine and compares them by the job's rule.
//!
//! [`daemon::Daemon`] watches the chain for assignments and committee seats, submits each
//! verdict exactly once ([`journal`]), publishes and relays committee votes ([`votes`]),
//! cranks time-outs, and exports [`metrics`]. See docs/verifier.md. [`canary`] runs canary
//! jobs that plant faults and challenge the passes that miss them.

pub mod audit;
pub mod canary;
pub mod daemon;
pub mod follow;
pub mod journal;
pub mod metrics;
pub mod provider;
pub mod votes;

pub use audit::{audit, audit_with, Audit, AuditError, CachedGpu, Finding};
pub use daemon::{
    Auditor, CrashPoint, Daemon, DaemonError, DaemonEvent, DaemonOptions, TickReport,
};
