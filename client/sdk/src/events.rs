//! Decoding the programs' `emit_cpi!` events.
//!
//! An event is a self-CPI whose data is `EVENT_IX_TAG_LE ‖ event discriminator ‖ borsh`.
//! On a cluster they appear in a transaction's inner instructions; the embedded bank
//! returns them from simulation.

use anchor_lang::{AnchorDeserialize, Discriminator};
use assay_market::events as market;
use assay_stake::events as stake;

/// Every event either program emits.
#[derive(Debug, Clone, PartialEq)]
pub enum AssayEvent {
    JobStateChanged(market::JobStateChanged),
    JobPosted(market::JobPosted),
    JobClaimed(market::JobClaimed),
    ResultCommitted(market::ResultCommitted),
    ChallengeDrawn(market::ChallengeDrawn),
    FaultReported(market::FaultReported),
    VerifierMissedWindow(market::VerifierMissedWindow),
    FaultContested(market::FaultContested),
    CommitteeDrawn(market::CommitteeDrawn),
    DrawRearmed(market::DrawRearmed),
    VerifierForfeited(market::VerifierForfeited),
    ContestResolved(market::ContestResolved),
    PassRecorded(market::PassRecorded),
    PassChallenged(market::PassChallenged),
    PassWindowReopened(market::PassWindowReopened),
    JobClosed(market::JobClosed),
    SettledUnaudited(market::SettledUnaudited),
    ConfigChanged(market::ConfigChanged),
    TreasuryWithdrawn(market::TreasuryWithdrawn),
    StakeConfigInitialized(stake::StakeConfigInitialized),
    StakeConfigUpdated(stake::StakeConfigUpdated),
    OperatorRegistered(stake::OperatorRegistered),
    StakeDeposited(stake::StakeDeposited),
    UnstakeRequested(stake::UnstakeRequested),
    StakeWithdrawn(stake::StakeWithdrawn),
    StakeLocked(stake::StakeLocked),
    StakeUnlocked(stake::StakeUnlocked),
    StakeSlashed(stake::StakeSlashed),
    VerifierSynced(stake::VerifierSynced),
    CapabilitiesSet(stake::CapabilitiesSet),
}

fn decode_as<T: AnchorDeserialize + Discriminator>(body: &[u8]) -> Option<T> {
    let rest = body.strip_prefix(T::DISCRIMINATOR)?;
    T::try_from_slice(rest).ok()
}

macro_rules! try_decode {
    ($body:expr, $($variant:ident => $ty:ty),+ $(,)?) => {
        $( if let Some(e) = decode_as::<$ty>($body) { return Some(AssayEvent::$variant(e)); } )+
    };
}

/// Decodes one inner instruction of `program_id` with `data`; `None` if it is no event.
pub fn decode_event(program_id: &anchor_lang::prelude::Pubkey, data: &[u8]) -> Option<AssayEvent> {
    let body = data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)?;
    if *program_id == assay_market::ID {
        try_decode!(body,
            JobStateChanged => market::JobStateChanged,
            JobPosted => market::JobPosted,
            JobClaimed => market::JobClaimed,
            ResultCommitted => market::ResultCommitted,
            ChallengeDrawn => market::ChallengeDrawn,
            FaultReported => market::FaultReported,
            VerifierMissedWindow => market::VerifierMissedWindow,
            FaultContested => market::FaultContested,
            CommitteeDrawn => market::CommitteeDrawn,
            DrawRearmed => market::DrawRearmed,
            VerifierForfeited => market::VerifierForfeited,
            ContestResolved => market::ContestResolved,
            PassRecorded => market::PassRecorded,
            PassChallenged => market::PassChallenged,
            PassWindowReopened => market::PassWindowReopened,
            JobClosed => market::JobClosed,
            SettledUnaudited => market::SettledUnaudited,
            ConfigChanged => market::ConfigChanged,
            TreasuryWithdrawn => market::TreasuryWithdrawn,
        );
    } else if *program_id == assay_stake::ID {
        try_decode!(body,
            StakeConfigInitialized => stake::StakeConfigInitialized,
            StakeConfigUpdated => stake::StakeConfigUpdated,
            OperatorRegistered => stake::OperatorRegistered,
            StakeDeposited => stake::StakeDeposited,
            UnstakeRequested => stake::UnstakeRequested,
            StakeWithdrawn => stake::StakeWithdrawn,
            StakeLocked => stake::StakeLocked,
            StakeUnlocked => stake::StakeUnlocked,
            StakeSlashed => stake::StakeSlashed,
            VerifierSynced => stake::VerifierSynced,
            CapabilitiesSet => stake::CapabilitiesSet,
        );
    }
    None
}
