use anchor_lang::prelude::*;

#[error_code]
pub enum StakeError {
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Arithmetic overflow")]
    Overflow,
    #[msg("Roles must be provider, verifier or both")]
    InvalidRoles,
    #[msg("Not enough unlocked, non-unstaking stake")]
    InsufficientAvailableStake,
    #[msg("Not enough locked stake")]
    InsufficientLockedStake,
    #[msg("No unstake request is pending")]
    NothingToWithdraw,
    #[msg("The unstake cooldown has not passed")]
    CooldownNotOver,
    #[msg("The unstake cooldown exceeds the maximum")]
    CooldownTooLong,
    #[msg("The verifier registry is full")]
    RegistryFull,
    #[msg("Token account mint does not match the stake mint")]
    WrongMint,
    #[msg("Token account is not owned by the operator")]
    WrongTokenOwner,
    #[msg("Signer is not the config admin")]
    NotAdmin,
    #[msg("Only the deployer fixed at build time may initialize")]
    NotDeployer,
    #[msg("The mint has a Token-2022 extension the programs do not accept")]
    UnsupportedMint,
    #[msg("The operator's available stake is below the verifier minimum")]
    BelowVerifierMinimum,
    #[msg("The draw epoch length must be between 1 and MAX_EPOCH_SLOTS slots")]
    InvalidEpochLength,
    #[msg("The verifier registry already has its full size")]
    RegistryComplete,
    #[msg("Capabilities name a bit the protocol does not define")]
    UnknownCapability,
    #[msg("The unstake cooldown must be at least one draw epoch: stake that weighs in an epoch's draws must stay bondable until it ends")]
    CooldownShorterThanEpoch,
    #[msg("A verifier's stake change must carry the verifier registry: its draw weight changes")]
    RegistryRequired,
}
