use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{
    OPERATOR_SEED, REGISTRY_SEED, ROLE_PROVIDER, ROLE_VERIFIER, STAKE_CONFIG_SEED, STAKE_VAULT_SEED,
};
use crate::errors::StakeError;
use crate::events::OperatorRegistered;
use crate::state::{Operator, StakeConfig, VerifierRegistry};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct RegisterOperatorArgs {
    /// `ROLE_PROVIDER | ROLE_VERIFIER` bits; at least one.
    pub roles: u8,
}

#[event_cpi]
#[derive(Accounts)]
pub struct RegisterOperator<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(seeds = [STAKE_CONFIG_SEED], bump = config.bump, has_one = mint @ StakeError::WrongMint)]
    pub config: Box<Account<'info, StakeConfig>>,
    #[account(mut, seeds = [REGISTRY_SEED], bump = registry.bump)]
    pub registry: Box<Account<'info, VerifierRegistry>>,
    #[account(init, payer = authority, space = Operator::SIZE, seeds = [OPERATOR_SEED, authority.key().as_ref()], bump)]
    pub operator: Box<Account<'info, Operator>>,
    #[account(
        init,
        payer = authority,
        seeds = [STAKE_VAULT_SEED, operator.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = operator,
        token::token_program = token_program,
    )]
    pub vault: Box<InterfaceAccount<'info, TokenAccount>>,
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
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn process_register_operator(
    ctx: Context<RegisterOperator>,
    args: RegisterOperatorArgs,
) -> Result<()> {
    let operator = &mut ctx.accounts.operator;
    operator.authority = ctx.accounts.authority.key();
    operator.roles = args.roles;
    operator.bump = ctx.bumps.operator;
    operator.vault_bump = ctx.bumps.vault;
    if operator.is_verifier() {
        ctx.accounts.registry.add(operator.authority)?;
    }
    emit_cpi!(OperatorRegistered {
        operator: operator.key(),
        authority: operator.authority,
        roles: args.roles,
    });
    Ok(())
}
