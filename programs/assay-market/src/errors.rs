use anchor_lang::prelude::*;

#[error_code]
pub enum MarketError {
    #[msg("Arithmetic overflow")]
    Overflow,
    #[msg("Signer is not the config admin")]
    NotAdmin,
    #[msg("Fees add up to more than 100 %")]
    FeesTooHigh,
    #[msg("A config parameter is out of range")]
    InvalidConfig,
    #[msg("The verifier bond exceeds the stake program's minimum verifier stake")]
    BondAboveVerifierMinimum,
    #[msg("Chunk count must be at least 1")]
    ZeroChunks,
    #[msg("Sample count must be between the configured minimum and the maximum, and at most the chunk count")]
    InvalidSampleCount,
    #[msg("Price must be greater than zero")]
    ZeroPrice,
    #[msg("Deadline window out of range")]
    InvalidDeadline,
    #[msg("Output location too long")]
    OutputUriTooLong,
    #[msg("The job is not in the state this instruction needs")]
    WrongJobState,
    #[msg("The deadline for this step has passed")]
    DeadlinePassed,
    #[msg("The deadline for this step has not passed yet")]
    DeadlineNotReached,
    #[msg("The challenge seed slot has not been reached")]
    SeedSlotNotReached,
    #[msg("No slot hash after the seed slot is available")]
    SlotHashUnavailable,
    #[msg("Signer is not the job's buyer")]
    NotBuyer,
    #[msg("Signer is not the job's provider")]
    NotProvider,
    #[msg("Signer is not the verifier assigned to this round")]
    NotAssignedVerifier,
    #[msg("Operator is not registered as a provider")]
    NotAProvider,
    #[msg("Operator account does not belong to the expected party")]
    WrongOperator,
    #[msg("Account does not belong to the expected party")]
    WrongAccountOwner,
    #[msg("Token account mint does not match the payment mint")]
    WrongMint,
    #[msg("Treasury account does not match the config")]
    WrongTreasury,
    #[msg("Chunk index is not in the drawn sample")]
    ChunkNotSampled,
    #[msg("Merkle proof does not verify against the committed root")]
    InvalidMerkleProof,
    #[msg("Merkle proof is longer than any tree allows")]
    ProofTooLong,
    #[msg("Verifier rounds remain: use advance_round")]
    RoundsRemain,
    #[msg("No verifier rounds remain: use finalize")]
    NoRoundsRemain,
    #[msg("No eligible committee member for a contest")]
    NoCommittee,
    #[msg("The instruction before this one is not an Ed25519 signature check")]
    MissingEd25519Instruction,
    #[msg("The Ed25519 instruction is malformed or points outside itself")]
    MalformedEd25519Instruction,
    #[msg("A signed attestation does not match this job, instance, round or evidence")]
    AttestationMismatch,
    #[msg("A vote is signed by a key outside the committee")]
    NotACommitteeMember,
    #[msg("A committee member voted twice")]
    DuplicateVote,
    #[msg("The votes do not reach a majority of the committee")]
    NoQuorum,
    #[msg("Only the deployer fixed at build time may initialize")]
    NotDeployer,
    #[msg("The treasury holds less than the amount asked for")]
    TreasuryTooLow,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("The contest committee has not been drawn yet")]
    CommitteeNotDrawn,
    #[msg("The contest committee has already been drawn")]
    CommitteeAlreadyDrawn,
    #[msg("A draw needs the Operator account of every party it excludes")]
    MissingOperator,
    #[msg("The committee's majority decided the other way: send the other resolution")]
    OtherOutcome,
    #[msg("The job's provider or its verifier cannot challenge the job's pass")]
    ChallengerIsAParty,
    #[msg("The job's needs name a capability bit the protocol does not define")]
    UnknownCapability,
    #[msg("No registered verifier's capabilities cover the job's needs: nobody could audit it")]
    NoCapableVerifier,
    #[msg("The verifier bond must be greater than zero")]
    ZeroBond,
    #[msg("The miss penalty must be greater than zero: a missed step would cost nothing")]
    ZeroPenalty,
    #[msg("The miss penalty exceeds the verifier bond it is slashed from")]
    PenaltyAboveBond,
    #[msg("Verifier rounds must be between 1 and MAX_VERIFIER_ROUNDS")]
    InvalidRoundCount,
    #[msg("The committee size must be between 1 and MAX_COMMITTEE")]
    InvalidCommitteeSize,
    #[msg("The minimum sample count must be between 1 and MAX_SAMPLES")]
    InvalidMinSamples,
    #[msg("The challenge delay and the verdict, dispute and vote windows must be between 1 and MAX_STEP_WINDOW_SLOTS")]
    StepWindowOutOfRange,
    #[msg("The pass window must be between 1 and MAX_PASS_WINDOW_SLOTS")]
    PassWindowOutOfRange,
    #[msg("The draw window must be between 1 slot and the slots SlotHashes keeps (MAX_DRAW_WINDOW_SLOTS)")]
    DrawWindowOutOfRange,
    #[msg("The draw window must be shorter than a draw epoch")]
    DrawWindowNotShorterThanEpoch,
    #[msg("The draw window has passed: the draw lapsed (send lapse_draw)")]
    DrawLapsed,
    #[msg("A draw is pending: make it (or let it lapse) first")]
    DrawPending,
    #[msg("No draw is pending")]
    NoDrawPending,
    #[msg("The comparison rule must be exact (0) or float (1)")]
    UnknownComparisonRule,
    #[msg("The price cannot pay the audit it asks for: raise the price or sample fewer chunks")]
    AuditUnaffordable,
    #[msg("The collateral is below the market's floor for this price")]
    CollateralTooLow,
    #[msg("The collateral floor is above MAX_COLLATERAL_BPS")]
    InvalidCollateralFloor,
    #[msg("sample_fee_bps is below MIN_SAMPLE_FEE_BPS: re-executing a sample would not be paid")]
    SampleFeeBelowFloor,
    #[msg("bond_fee_multiple is below MIN_BOND_FEE_MULTIPLE: a blind pass would risk too little")]
    BondMultipleBelowFloor,
    #[msg("min_collateral_bps is below MIN_COLLATERAL_FLOOR_BPS: faking a job would pay when its verifier is lazy")]
    CollateralFloorBelowMinimum,
    #[msg("The job cannot move from its state to that one (not an edge of the lifecycle)")]
    IllegalTransition,
    #[msg("Chunk index is not below the job's chunk count")]
    ChunkOutOfRange,
}
