use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenInterface};

use crate::constants::{
    OPERATOR_SEED, ROLE_PROVIDER, ROLE_VERIFIER, STAKE_CONFIG, STAKE_VAULT_SEED,
};
use crate::create::{create_account, create_token_account, write_account};
use crate::errors::StakeError;
use crate::events::OperatorRegistered;
use crate::state::{Operator, StakeConfig};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterOperatorArgs {
    /// `ROLE_PROVIDER | ROLE_VERIFIER` bits; at least one.
    pub roles: u8,
    /// `assay_protocol::capability` bits the operator's GPU adapter can run (verifiers;
    /// 0 = portable jobs only). Changed later with `set_capabilities`.
    pub capabilities: u8,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterOperator<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(address = STAKE_CONFIG, has_one = mint @ StakeError::WrongMint)]
    pub config: Box<Account<'info, StakeConfig>>,
    /// CHECK: created here (pre-funding tolerated); the seeds pin the address.
    #[account(mut, seeds = [OPERATOR_SEED, authority.key().as_ref()], bump)]
    pub operator: UncheckedAccount<'info>,
    /// CHECK: created here as a token account owned by `operator`; seeds pin the address.
    #[account(mut, seeds = [STAKE_VAULT_SEED, operator.key().as_ref()], bump)]
    pub vault: UncheckedAccount<'info>,
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl RegisterOperator<'_> {
    fn validate(&self, args: &RegisterOperatorArgs) -> Result<()> {
        require!(
            args.roles != 0 && args.roles & !(ROLE_PROVIDER | ROLE_VERIFIER) == 0,
            StakeError::InvalidRoles
        );
        require!(
            assay_protocol::capability::is_known(args.capabilities),
            StakeError::UnknownCapability
        );
        Ok(())
    }
}

/// Specification:
/// - the operator account and its empty vault exist, however many lamports either
///   address held before;
/// - the registry is unchanged: a verifier takes a slot only once its deposit reaches
///   the minimum verifier stake.
#[access_control(ctx.accounts.validate(&args))]
pub fn process_register_operator(
    ctx: Context<RegisterOperator>,
    args: RegisterOperatorArgs,
) -> Result<()> {
    let accounts = &ctx.accounts;
    let authority = accounts.authority.key();
    let (payer, system) = (
        accounts.authority.to_account_info(),
        accounts.system_program.to_account_info(),
    );
    let operator_info = accounts.operator.to_account_info();
    let operator_seeds: &[&[u8]] = &[OPERATOR_SEED, authority.as_ref(), &[ctx.bumps.operator]];
    create_account(
        &payer,
        &operator_info,
        &system,
        &crate::ID,
        Operator::SIZE,
        operator_seeds,
    )?;
    let operator = Operator {
        authority,
        roles: args.roles,
        deposited: 0,
        locked: 0,
        unstaking: 0,
        unstake_ready_slot: 0,
        slashed_total: 0,
        bump: ctx.bumps.operator,
        vault_bump: ctx.bumps.vault,
        registry_slot: u32::MAX,
        registry_tag: 0,
        capabilities: args.capabilities,
    };
    write_account(&operator_info, &operator)?;
    let operator_key = operator_info.key();
    let vault_seeds: &[&[u8]] = &[STAKE_VAULT_SEED, operator_key.as_ref(), &[ctx.bumps.vault]];
    create_token_account(
        &payer,
        &accounts.vault.to_account_info(),
        &system,
        &accounts.mint.to_account_info(),
        &operator_info,
        &accounts.token_program.to_account_info(),
        vault_seeds,
    )?;
    emit_cpi!(OperatorRegistered {
        operator: operator_key,
        authority,
        roles: args.roles,
        capabilities: args.capabilities,
    });
    Ok(())
}
