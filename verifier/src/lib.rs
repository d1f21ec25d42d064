//! The verifier's work on one assignment, the publication format it reads, and the
//! `assay-verifier` daemon around them.
//!
//! A provider publishes, in the content-addressed blob store, every chunk output as its
//! own blob plus a [`ResultIndex`] naming them and listing every Merkle leaf; the job's
//! on-chain `output_uri` is `sha256:<hex of the index blob>`, optionally `@` the URL of the
//! provider's own mirror ([`Sources`] tries it when a blob is missing or corrupt in the
//! verifier's store). The verifier fetches the
//! index, checks its leaves against the committed root, fetches only the sampled chunks,
//! re-executes exactly those on the GPU engine and compares them by the job's rule.
//!
//! [`daemon::Daemon`] watches the chain for assignments and committee seats, submits each
//! verdict exactly once ([`journal`]), publishes and relays committee votes ([`votes`]),
//! cranks time-outs, and exports [`metrics`]. See docs/verifier.md. [`canary`] runs canary
//! jobs that plant faults and challenge the passes that miss them.

pub mod audit;
pub mod canary;
pub mod config;
pub mod daemon;
pub mod follow;
pub mod journal;
pub mod metrics;
pub mod served;
pub mod votes;

pub use audit::{audit, audit_with, Audit, AuditError, CachedGpu, Finding};
pub use daemon::{Auditor, CrashPoint, Daemon, DaemonError, DaemonOptions, TickReport};
pub use served::{publish, Mirror, ResultIndex, ServeError, Sources, OUTPUT_URI_PREFIX};
