//! Decoding the programs' `emit_cpi!` events.
//!
//! An event is a self-CPI whose data is `EVENT_IX_TAG_LE ‖ event discriminator ‖ borsh`.
//! On a cluster they appear in a transaction's inner instructions; the embedded bank
//! returns them from simulation.

use anchor_lang::{AnchorDeserialize, Discriminator};
use assay_market::events as market;
use assay_stake::events as stake;

fn decode_as<T: AnchorDeserialize + Discriminator>(body: &[u8]) -> Option<T> {
    let rest = body.strip_prefix(T::DISCRIMINATOR)?;
    T::try_from_slice(rest).ok()
}

/// The event list, written once: each program's events become variants of
/// [`AssayEvent`] and cases of [`decode_event`].
macro_rules! assay_events {
    ($(market: $m:ident),+ ; $(stake: $s:ident),+ $(,)?) => {
        /// Every event either program emits.
        #[derive(Debug, Clone, PartialEq)]
        pub enum AssayEvent {
            $($m(market::$m),)+
            $($s(stake::$s),)+
        }

        /// Decodes one inner instruction of `program_id` with `data`; `None` if it is no
        /// event.
        pub fn decode_event(
            program_id: &anchor_lang::prelude::Pubkey,
            data: &[u8],
        ) -> Option<AssayEvent> {
            let body = data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)?;
            if *program_id == assay_market::ID {
                $(if let Some(e) = decode_as::<market::$m>(body) {
                    return Some(AssayEvent::$m(e));
                })+
            } else if *program_id == assay_stake::ID {
                $(if let Some(e) = decode_as::<stake::$s>(body) {
                    return Some(AssayEvent::$s(e));
                })+
            }
            None
        }
    };
}

assay_events!(
    market: JobStateChanged,
    market: JobPosted,
    market: JobClaimed,
    market: ResultCommitted,
    market: ChallengeDrawn,
    market: FaultReported,
    market: VerifierMissedWindow,
    market: FaultContested,
    market: CommitteeDrawn,
    market: DrawRearmed,
    market: VerifierForfeited,
    market: DrawLapsed,
    market: ContestResolved,
    market: PassRecorded,
    market: PassChallenged,
    market: PassWindowReopened,
    market: JobClosed,
    market: SettledUnaudited,
    market: ConfigChanged,
    market: TreasuryWithdrawn;
    stake: StakeConfigInitialized,
    stake: StakeConfigUpdated,
    stake: OperatorRegistered,
    stake: StakeDeposited,
    stake: UnstakeRequested,
    stake: StakeWithdrawn,
    stake: StakeLocked,
    stake: StakeUnlocked,
    stake: StakeSlashed,
    stake: VerifierSynced,
    stake: CapabilitiesSet,
);
