//! The verifier's work on one assignment, and the publication format it reads.
//!
//! A provider publishes, in the content-addressed blob store, every chunk output as its
//! own blob plus a [`ResultIndex`] naming them and listing every Merkle leaf; the job's
//! on-chain `output_uri` is `sha256:<hex of the index blob>`. The verifier fetches the
//! index, checks its leaves against the committed root, fetches only the sampled chunks,
//! re-executes exactly those on the GPU engine and compares them by the job's rule.

pub mod audit;
pub mod served;

pub use audit::{audit, Audit, AuditError, Finding};
pub use served::{publish, ResultIndex, ServeError, OUTPUT_URI_PREFIX};
