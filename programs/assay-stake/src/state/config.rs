use anchor_lang::prelude::*;

/// Global stake settings. PDA `["stake-config"]`.
#[account]
#[derive(InitSpace)]
pub struct StakeConfig {
    /// May change the cooldown and the verifier threshold; can never move stake.
    pub admin: Pubkey,
    /// The one SPL mint (Token or Token-2022) all stake is held in.
    pub mint: Pubkey,
    /// Slots between `request_unstake` and `withdraw`.
    pub unstake_cooldown_slots: u64,
    /// Least available stake (token base units) for a verifier to be drawn.
    pub min_verifier_stake: u64,
    pub bump: u8,
}

impl StakeConfig {
    pub const SIZE: usize = 8 + Self::INIT_SPACE;
}
