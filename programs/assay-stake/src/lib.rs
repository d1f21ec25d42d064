use anchor_lang::prelude::*;
declare_id!("Gf9GbXzwqJbrV5aPHCsLYA2SstrSQuLcFKobpxAc1qWh");
#[program]
pub mod assay_stake {
    use super::*;
    pub fn noop(_ctx: Context<Noop>) -> Result<()> { Ok(()) }
}
#[derive(Accounts)]
pub struct Noop {}
