use anchor_lang::prelude::*;
declare_id!("HSiQBrB45HYJckuWVQUAHojZ7CNpdJdataqKnGNksAju");
#[program]
pub mod assay_market {
    use super::*;
    pub fn noop(_ctx: Context<Noop>) -> Result<()> { Ok(()) }
}
#[derive(Accounts)]
pub struct Noop {}
