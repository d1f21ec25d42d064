//! Audit strength as a price tier: how likely a cheat is caught, and which sample count
//! makes cheating a losing bet; and the sybil side: how likely an attacker holding a share
//! of the verifier stake audits itself, and which committee size makes that rare
//! (derivations in `docs/economics.md`); and the lazy verifier's side: which canary rate
//! and bond make signing "pass" without re-executing a losing bet, and what the canaries
//! cost.

/// Exact probability that a sample of `k` distinct chunks out of `n` contains at least one
/// of `faked` faked chunks: `1 − C(n − faked, k) / C(n, k)`.
pub fn detection_probability(n: u32, k: u32, faked: u32) -> f64 {
    if faked == 0 || k == 0 || n == 0 {
        return 0.0;
    }
    if faked > n.saturating_sub(k) {
        return 1.0;
    }
    let miss: f64 = (0..k)
        .map(|i| f64::from(n - faked - i) / f64::from(n - i))
        .product();
    1.0 - miss
}

/// The terms a buyer offers, in token base units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Terms {
    pub n_chunks: u32,
    pub samples: u32,
    /// What the provider is paid when the job settles (price less fees).
    pub price: u64,
    pub collateral: u64,
    /// The provider's honest cost of computing the whole job.
    pub provider_cost: u64,
}

/// What a provider that also holds verifier stake can count on in one job.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Capture {
    /// Probability that its own identity is the job's verifier ([`verifier_capture`]).
    pub verifier: f64,
    /// Probability that it holds a contest committee majority ([`committee_capture`]).
    pub committee: f64,
    /// What an overturned fault pays it from the accuser's bond, base units (at most the
    /// bond; the treasury keeps `treasury_slash_bps` of it).
    pub bond_won: u64,
}

impl Terms {
    /// Expected gain of faking `faked` chunks over running the job honestly:
    /// `faked/n · cost − P(caught) · (price + collateral)`. Caught, the provider forfeits
    /// the payment and its collateral; uncaught, it saves the cost of the faked chunks.
    pub fn cheating_gain(&self, faked: u32) -> f64 {
        let saved = f64::from(faked) / f64::from(self.n_chunks) * self.provider_cost as f64;
        let p = detection_probability(self.n_chunks, self.samples, faked);
        saved - p * (self.price as f64 + self.collateral as f64)
    }

    /// True when faking any number of chunks has negative expected value.
    pub fn cheating_never_pays(&self) -> bool {
        (1..=self.n_chunks).all(|f| self.cheating_gain(f) < 0.0)
    }

    /// [`Terms::cheating_gain`] when the provider also holds verifier stake (see [`Capture`]):
    /// `f·c + (1 − v)·p(F)·(q·b − (1 − q)·(P + C))`. With its own identity drawn as verifier
    /// (probability `v`) the fake is paid; caught by an honest verifier it contests, and a
    /// captured committee (probability `q`) overturns the fault, pays it and hands it the
    /// accuser's slashed bond `b`; otherwise it loses the payment and its collateral.
    /// Equals `cheating_gain` for `v = q = b = 0`.
    pub fn cheating_gain_with_capture(&self, faked: u32, capture: Capture) -> f64 {
        let saved = f64::from(faked) / f64::from(self.n_chunks) * self.provider_cost as f64;
        let p = detection_probability(self.n_chunks, self.samples, faked);
        let (v, q) = (
            capture.verifier.clamp(0.0, 1.0),
            capture.committee.clamp(0.0, 1.0),
        );
        let lost = self.price as f64 + self.collateral as f64;
        saved + (1.0 - v) * p * (q * capture.bond_won as f64 - (1.0 - q) * lost)
    }

    /// True when faking any number of chunks has negative expected value against the given
    /// capture probabilities.
    pub fn cheating_never_pays_with_capture(&self, capture: Capture) -> bool {
        (1..=self.n_chunks).all(|f| self.cheating_gain_with_capture(f, capture) < 0.0)
    }

    /// The smallest sample count (≤ `max`) for which cheating never pays, if any.
    pub fn smallest_safe_samples(&self, max: u32) -> Option<u32> {
        (1..=max.min(self.n_chunks)).find(|&k| {
            Terms {
                samples: k,
                ..*self
            }
            .cheating_never_pays()
        })
    }
}

/// Probability that an attacker holding stake share `s` of the eligible verifier weight is
/// drawn as the verifier of at least one of `rounds` verifier rounds.
///
/// Assumptions: each round draws one verifier with probability weight / Σ weights, and the
/// weights are fixed (per epoch) before the seed is known, so the attacker cannot adapt its
/// stake to the draw. How the attacker splits its stake over identities does not change its
/// weight share, hence not this probability. `rounds = 1` gives the per-round chance, which
/// is exactly `s`. For `rounds > 1` the result `1 − (1 − s)^rounds` treats rounds as
/// independent draws over a large network; it is an upper bound on the per-job chance, since
/// a later round is only drawn when the earlier verifier missed its window (an attacker's
/// verifier attests at once). Excluding the honest verifiers of earlier rounds raises the
/// attacker's share to `s / (1 − excluded weight)`, negligible in a large network.
pub fn verifier_capture(s: f64, rounds: u32) -> f64 {
    let s = s.clamp(0.0, 1.0);
    match rounds {
        0 => 0.0,
        1 => s,
        r => 1.0 - (1.0 - s).powi(r.min(i32::MAX as u32) as i32),
    }
}

/// Seats a side must hold to decide a committee of `size`: a strict majority, `size/2 + 1`
/// (as `resolve_contest` counts it).
pub fn committee_majority(size: u32) -> u32 {
    size / 2 + 1
}

/// `P(X ≥ at_least)` for `X ~ Binomial(size, s)`.
fn binomial_tail(s: f64, size: u32, at_least: u32) -> f64 {
    let s = s.clamp(0.0, 1.0);
    if at_least == 0 {
        return 1.0;
    }
    if at_least > size {
        return 0.0;
    }
    // Sum the smaller tail directly, so values near 0 or 1 keep their precision.
    let term = |j: u32| -> f64 {
        let choose: f64 = (0..j)
            .map(|i| f64::from(size - i) / f64::from(i + 1))
            .product();
        choose * s.powi(j as i32) * (1.0 - s).powi((size - j) as i32)
    };
    (at_least..=size).map(term).sum::<f64>().min(1.0)
}

/// Probability that an attacker with stake share `s` holds a strict majority
/// (`size/2 + 1` seats) of a contest committee of `size` seats, and so decides the contest.
///
/// Large-network approximation: the binomial tail `Σ_{j ≥ m} C(n, j) s^j (1 − s)^{n−j}`.
/// The committee is drawn by weight without replacement (excluding the provider and the
/// accuser); when the stake is spread over many identities, each small beside the total,
/// removing a drawn identity barely changes the shares, so the draw converges to this
/// binomial. It is exact in the limit of a large network of equal-stake identities (see
/// [`committee_capture_equal_stake`] for the exact finite case). The attacker's best split is
/// many small identities (one large identity can hold only one seat), which is what this
/// assumes. Honest stake concentrated in a few large verifiers is *not* covered: drawing one
/// removes much honest weight and raises the attacker's share for the later seats.
/// `size = 1` is the single verifier draw (`= s`); `size = 0` (no committee) gives 0.
pub fn committee_capture(s: f64, size: u32) -> f64 {
    if size == 0 {
        return 0.0;
    }
    binomial_tail(s, size, committee_majority(size))
}

/// Probability that an attacker with share `s` holds enough seats to stop the honest members
/// reaching a majority (`size − size/2` seats): the contest is then voided (buyer refunded,
/// nobody slashed). For odd sizes this equals [`committee_capture`]; for even sizes it is
/// larger (half the seats suffice), which is why the recommendation only uses odd sizes.
pub fn committee_block(s: f64, size: u32) -> f64 {
    if size == 0 {
        return 0.0;
    }
    binomial_tail(s, size, size - size / 2)
}

/// Exact [`committee_capture`] for a finite network of `identities` equal-stake identities
/// of which `attacker` are the attacker's: with equal weights the draw without replacement
/// picks a uniform subset of `size`, so the attacker's seats are hypergeometric,
/// `Σ_{j ≥ m} C(A, j) C(N − A, n − j) / C(N, n)`. A committee cannot be larger than the
/// network, so `size` is capped at `identities` (as `pick_distinct` does).
pub fn committee_capture_equal_stake(identities: u32, attacker: u32, size: u32) -> f64 {
    let attacker = attacker.min(identities);
    let size = size.min(identities);
    if size == 0 {
        return 0.0;
    }
    let (n_all, a, n) = (f64::from(identities), f64::from(attacker), size);
    // P(X = j) = C(n, j) · Π_{i<j} (A − i)/(N − i) · Π_{i<n−j} (N − A − i)/(N − j − i).
    let point = |j: u32| -> f64 {
        if j > attacker || n - j > identities - attacker {
            return 0.0;
        }
        let choose: f64 = (0..j)
            .map(|i| f64::from(n - i) / f64::from(i + 1))
            .product();
        let mine: f64 = (0..j)
            .map(|i| (a - f64::from(i)) / (n_all - f64::from(i)))
            .product();
        let theirs: f64 = (0..n - j)
            .map(|i| (n_all - a - f64::from(i)) / (n_all - f64::from(j) - f64::from(i)))
            .product();
        choose * mine * theirs
    };
    (committee_majority(n)..=n).map(point).sum::<f64>().min(1.0)
}

/// The stake share at which [`committee_capture`] for `size` seats reaches `target`, found by
/// bisection (the capture probability is continuous and increasing in `s`), to within 1e-12.
/// For `size = 1` (the single verifier draw) this is `target` itself. `None` when `size` is 0
/// or `target` is outside `(0, 1]`.
pub fn share_for_capture(target: f64, size: u32) -> Option<f64> {
    if size == 0 || !(target > 0.0 && target <= 1.0) {
        return None;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if committee_capture(mid, size) < target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

/// The smallest odd committee size `≤ max_size` whose capture probability at attacker share
/// `s_max` is at most `target`, if any. Odd sizes only: an even size lets half the seats void
/// the contest ([`committee_block`]) at no gain in capture resistance over one seat fewer.
pub fn smallest_safe_committee(s_max: f64, target: f64, max_size: u32) -> Option<u32> {
    (1..=max_size)
        .step_by(2)
        .find(|&n| committee_capture(s_max, n) <= target)
}

/// The stake an attacker must hold for share `s` against `honest_stake` of honest verifier
/// stake: `S / (S + H) = s  ⇒  S = s/(1 − s) · H`. Infinite for `s ≥ 1`.
pub fn attacker_stake(s: f64, honest_stake: f64) -> f64 {
    if s >= 1.0 {
        return f64::INFINITY;
    }
    s.max(0.0) / (1.0 - s.max(0.0)) * honest_stake
}

/// The range a verifier bond `B` must lie in when a contest committee is captured with
/// probability `q` and an upheld fault pays the accuser `finder_reward` (`R`):
///
/// - a false fault report must not pay: `q·R − (1 − q)·B < 0  ⇒  B > q/(1 − q) · R`;
/// - a true one must: `(1 − q)·R − q·B > 0  ⇒  B < (1 − q)/q · R`.
///
/// Returns `(lower, upper)`; `upper` is infinite for `q = 0`. A third bound is not computed
/// here: the slashed bond (less the treasury's share) should cover what a wrong report costs
/// an honest provider (its delayed payment and the contest's fees).
pub fn bond_bounds(q: f64, finder_reward: f64) -> (f64, f64) {
    let q = q.clamp(0.0, 1.0);
    let lower = if q >= 1.0 {
        f64::INFINITY
    } else {
        q / (1.0 - q) * finder_reward
    };
    let upper = if q <= 0.0 {
        f64::INFINITY
    } else {
        (1.0 - q) / q * finder_reward
    };
    (lower, upper)
}

/// A verifier drawn for a job chooses between re-executing its sample and signing "pass"
/// blind. Canary jobs (a share `canary_rate` of all jobs, indistinguishable from the rest)
/// carry planted faults; a blind pass of a canary whose sample holds a planted chunk is
/// challenged within the pass window and upheld: the verifier loses its bond, and forgoes
/// what an honest verifier earns on that canary, the finder share of its collateral (on a
/// canary nobody earns the fee: the job is slashed). Amounts in token base units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Laziness {
    /// What re-executing the sample costs the verifier (`k/N` of the job's compute).
    pub recheck_cost: f64,
    /// The verifier bond slashed when a blind pass is shown wrong.
    pub bond: u64,
    /// The finder share of a canary's collateral an honest verifier earns by reporting
    /// its planted fault (`collateral · finder_fee_bps / 10⁴`).
    pub finder_reward: u64,
    /// Probability that a canary's sample holds one of its planted chunks:
    /// [`detection_probability`]`(N, k, planted)`.
    pub catch: f64,
}

impl Laziness {
    /// What a blind pass of a caught canary costs beside re-executing it: the bond lost
    /// and the finder share not earned.
    pub fn at_stake(&self) -> f64 {
        (self.bond as f64) + (self.finder_reward as f64)
    }

    /// Expected gain of signing blind over re-executing, per job:
    /// `e − ρ · p · (b + φ·C)`. Negative means laziness is a losing bet. (Fishermen who
    /// re-check real jobs only add to the chance of being caught; not counted.)
    pub fn lazy_gain(&self, canary_rate: f64) -> f64 {
        self.recheck_cost - canary_rate * self.catch * self.at_stake()
    }

    /// The canary rate from which laziness loses: `ρ* = e / (p · (b + φ·C))`. `None` when
    /// no rate below 1 does it (nothing at stake, or `ρ* ≥ 1`).
    pub fn break_even_canary_rate(&self) -> Option<f64> {
        let exposure = self.catch * self.at_stake();
        (exposure > 0.0)
            .then(|| self.recheck_cost / exposure)
            .filter(|rate| *rate < 1.0)
    }

    /// The bond that makes laziness a losing bet at `canary_rate`:
    /// `b* = e / (ρ · p) − φ·C`, at least 0. Infinite when `ρ · p = 0`.
    pub fn bond_for_canary_rate(&self, canary_rate: f64) -> f64 {
        let exposure = canary_rate * self.catch;
        if exposure <= 0.0 {
            return f64::INFINITY;
        }
        (self.recheck_cost / exposure - self.finder_reward as f64).max(0.0)
    }
}

/// The fewest chunks a canary of `n` chunks sampling `k` must plant so that its sample
/// holds one with probability at least `target` (at most `n − k + 1`, which makes it
/// certain).
pub fn planted_for_catch(n: u32, k: u32, target: f64) -> u32 {
    let most = n.saturating_sub(k) + 1;
    let (mut lo, mut hi) = (1u32, most.max(1));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if detection_probability(n, k, mid) >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// What the economics assume about the world beyond the chain's parameters
/// (docs/economics.md states each and why).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assumptions {
    /// The provider's compute as a share of what it is paid (price less fees).
    pub compute_share: f64,
    /// Share of all jobs that are canaries.
    pub canary_rate: f64,
    /// Probability that a canary's sample holds a planted chunk (the canary operator
    /// plants [`planted_for_catch`] chunks for it).
    pub canary_catch: f64,
    /// Probability that some fisherman re-checks a given pass within its window.
    pub fisherman_rate: f64,
}

impl Default for Assumptions {
    fn default() -> Self {
        Self {
            compute_share: 0.8,
            canary_rate: 0.02,
            canary_catch: 0.9,
            fisherman_rate: 0.25,
        }
    }
}

/// A job's shape: what a buyer chooses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobShape {
    pub n_chunks: u32,
    pub samples: u8,
    pub price: u64,
    /// `None`: the market's collateral floor for this price.
    pub collateral: Option<u64>,
}

/// What a deployment's parameters make of each strategy for one job, in token base units
/// (docs/economics.md, "At the terms a deployment ships").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeploymentEconomics {
    pub verifier_fee: u64,
    pub protocol_fee: u64,
    pub verifier_bond: u64,
    pub collateral: u64,
    /// The verifier's cost of re-executing its sample.
    pub recheck_cost: f64,
    /// Chunks a canary of this shape plants, and the chance its sample holds one.
    pub planted: u32,
    pub canary_catch: f64,
    /// Expected gain per job of signing "pass" without re-executing.
    pub lazy_gain_per_job: f64,
    /// The largest expected gain of faking any number of chunks, when the drawn verifier
    /// re-executes (caught: unpaid and slashed) and when it is lazy or bribed (caught
    /// only by a fisherman, after being paid: slashed).
    pub cheat_gain_max_diligent_verifiers: f64,
    pub cheat_gain_max_lazy_verifiers: f64,
    /// Fee less re-execution cost on this job.
    pub audit_margin: f64,
    /// What the buyer pays beyond the provider's payout, as a share of the price (%).
    pub buyer_overhead_pct: f64,
}

impl DeploymentEconomics {
    /// The economics of `shape` under `params` and `a`; the market's own refusal
    /// (`AuditUnaffordable`, `CollateralTooLow`) when it would not accept the job.
    pub fn of(
        params: &assay_market::state::MarketParams,
        shape: JobShape,
        a: &Assumptions,
    ) -> Result<Self, assay_market::errors::MarketError> {
        let terms =
            assay_market::state::JobTerms::of(params, shape.price, shape.n_chunks, shape.samples)?;
        let collateral = shape.collateral.unwrap_or(terms.min_collateral);
        if collateral < terms.min_collateral {
            return Err(assay_market::errors::MarketError::CollateralTooLow);
        }
        let (n, k) = (shape.n_chunks, u32::from(shape.samples));
        let payout = (shape.price - terms.verifier_fee - terms.protocol_fee) as f64;
        let compute = a.compute_share * payout;
        let recheck_cost = compute * f64::from(k) / f64::from(n);
        let planted = planted_for_catch(n, k, a.canary_catch);
        let catch = detection_probability(n, k, planted);
        let finder = collateral as f64 * f64::from(params.finder_fee_bps) / 10_000.0;
        let laziness = Laziness {
            recheck_cost,
            bond: terms.verifier_bond,
            finder_reward: finder as u64,
            catch,
        };
        let saved = |faked: u32| f64::from(faked) / f64::from(n) * compute;
        let worst = |gain: &dyn Fn(u32) -> f64| (1..=n).map(gain).fold(f64::NEG_INFINITY, f64::max);
        let diligent =
            worst(&|f| saved(f) - detection_probability(n, k, f) * (payout + collateral as f64));
        let lazy = worst(&|f| {
            saved(f) - a.fisherman_rate * detection_probability(n, k, f) * collateral as f64
        });
        Ok(Self {
            verifier_fee: terms.verifier_fee,
            protocol_fee: terms.protocol_fee,
            verifier_bond: terms.verifier_bond,
            collateral,
            recheck_cost,
            planted,
            canary_catch: catch,
            lazy_gain_per_job: laziness.lazy_gain(a.canary_rate),
            cheat_gain_max_diligent_verifiers: diligent,
            cheat_gain_max_lazy_verifiers: lazy,
            audit_margin: terms.verifier_fee as f64 - recheck_cost,
            buyer_overhead_pct: (terms.verifier_fee + terms.protocol_fee) as f64
                / shape.price as f64
                * 100.0,
        })
    }
}

/// The smallest audit margin (verifier fee less re-execution cost) over every job the
/// market accepts of up to 4,096 chunks and 64 samples, each at the lowest price it
/// accepts for that shape: the job on which honest auditing pays least. Returns the
/// margin and the shape.
pub fn smallest_audit_margin(
    params: &assay_market::state::MarketParams,
    a: &Assumptions,
) -> Option<(f64, JobShape)> {
    let mut worst: Option<(f64, JobShape)> = None;
    let sizes = (0..=12).map(|e| 1u32 << e);
    for n in sizes {
        for k in 1..=n.min(64) as u8 {
            if k < params.min_samples {
                continue;
            }
            // The lowest price this shape is accepted at (fees only grow with it).
            let accepted =
                |price: u64| assay_market::state::JobTerms::of(params, price, n, k).is_ok();
            if !accepted(1 << 50) {
                continue;
            }
            let (mut lo, mut hi) = (1u64, 1u64 << 50);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                if accepted(mid) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            let shape = JobShape {
                n_chunks: n,
                samples: k,
                price: lo,
                collateral: None,
            };
            if let Ok(e) = DeploymentEconomics::of(params, shape, a) {
                if worst.is_none_or(|(m, _)| e.audit_margin < m) {
                    worst = Some((e.audit_margin, shape));
                }
            }
        }
    }
    worst
}

/// What one canary job costs whoever funds the canaries (say the treasury) when verifiers
/// are honest, in base units: the compute of the whole job (`provider_cost`; a canary must
/// serve correct outputs everywhere but its planted chunks), plus, when the sample holds a
/// planted chunk (probability `catch`), the finder share of its collateral paid to the
/// verifier that reports it, or else the verifier fee paid on the pass. The canary's own
/// price, its collateral's victim share and the treasury's shares come back to it.
pub fn canary_cost(
    provider_cost: u64,
    collateral: u64,
    finder_fee_bps: u16,
    fee: u64,
    catch: f64,
) -> f64 {
    let finder = collateral as f64 * f64::from(finder_fee_bps) / 10_000.0;
    provider_cost as f64 + catch * finder + (1.0 - catch) * fee as f64
}

/// The canaries' cost spread over real jobs: with a share `rate` of all jobs canaries,
/// each real job carries `rate / (1 − rate)` canary jobs.
pub fn canary_cost_per_real_job(cost_per_canary: f64, rate: f64) -> f64 {
    if rate >= 1.0 {
        return f64::INFINITY;
    }
    rate.max(0.0) / (1.0 - rate.max(0.0)) * cost_per_canary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_matches_the_closed_forms() {
        // One faked chunk of n, k samples: k/n exactly.
        assert!((detection_probability(100, 10, 1) - 0.1).abs() < 1e-12);
        // Faking more than n − k chunks can never be missed.
        assert_eq!(detection_probability(10, 4, 7), 1.0);
        assert_eq!(detection_probability(10, 4, 0), 0.0);
        // Close to 1 − (1 − f)^k for n ≫ k.
        let exact = detection_probability(100_000, 64, 10_000);
        assert!((exact - (1.0 - 0.9f64.powi(64))).abs() < 1e-3);
    }

    #[test]
    fn larger_collateral_needs_fewer_samples() {
        let base = Terms {
            n_chunks: 4096,
            samples: 0,
            price: 100,
            collateral: 0,
            provider_cost: 80,
        };
        let lean = base.smallest_safe_samples(64);
        let staked = Terms {
            collateral: 10_000,
            ..base
        }
        .smallest_safe_samples(64);
        assert!(staked.unwrap() <= lean.unwrap_or(u32::MAX));
        assert!(Terms {
            samples: staked.unwrap(),
            collateral: 10_000,
            ..base
        }
        .cheating_never_pays());
    }

    #[test]
    fn faking_one_chunk_of_many_needs_collateral_to_be_deterred() {
        // With no collateral, faking 1 of 4096 chunks with k = 64 saves cost/4096 and
        // risks (64/4096)·price: deterred only if price·64 > cost.
        let t = Terms {
            n_chunks: 4096,
            samples: 64,
            price: 100,
            collateral: 0,
            provider_cost: 80,
        };
        assert!(t.cheating_gain(1) < 0.0);
        let greedy = Terms {
            provider_cost: 100_000,
            ..t
        };
        assert!(greedy.cheating_gain(1) > 0.0);
        assert!(!greedy.cheating_never_pays());
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() < tol
    }

    #[test]
    fn verifier_draw_is_the_stake_share_per_round() {
        assert_eq!(verifier_capture(0.1, 1), 0.1);
        assert!(close(verifier_capture(0.1, 2), 0.19, 1e-15));
        assert_eq!(verifier_capture(0.3, 0), 0.0);
        assert_eq!(verifier_capture(1.0, 4), 1.0);
    }

    #[test]
    fn committee_capture_matches_hand_computed_binomials() {
        // 3 seats, majority 2: 3·0.1²·0.9 + 0.1³.
        assert!(close(committee_capture(0.1, 3), 0.028, 1e-15));
        // 5 seats, majority 3: 10·0.1³·0.9² + 5·0.1⁴·0.9 + 0.1⁵.
        assert!(close(committee_capture(0.1, 5), 0.00856, 1e-15));
        // 7 seats, majority 4: 35·10⁻⁴·0.9³ + 21·10⁻⁵·0.9² + 7·10⁻⁶·0.9 + 10⁻⁷.
        assert!(close(committee_capture(0.1, 7), 0.002728, 1e-15));
        // One seat is the verifier draw; no seats, nothing to capture.
        assert!(close(committee_capture(0.37, 1), 0.37, 1e-15));
        assert_eq!(committee_capture(0.9, 0), 0.0);
        assert_eq!(committee_majority(4), 3);
    }

    #[test]
    fn half_the_stake_captures_every_odd_committee_half_the_time() {
        for n in (1..=15).step_by(2) {
            assert!(close(committee_capture(0.5, n), 0.5, 1e-12), "size {n}");
            // Symmetry: one side or the other holds the majority.
            assert!(close(
                committee_capture(0.2, n) + committee_capture(0.8, n),
                1.0,
                1e-12
            ));
        }
    }

    #[test]
    fn capture_grows_with_share_and_shrinks_with_size_below_half() {
        for n in 1..=9 {
            let mut last = -1.0;
            for i in 0..=100 {
                let p = committee_capture(f64::from(i) / 100.0, n);
                assert!(p >= last, "size {n}, s = {i} %");
                last = p;
            }
        }
        for s in [0.01, 0.05, 0.1, 0.2, 0.33, 0.45] {
            assert!(committee_capture(s, 3) < committee_capture(s, 1));
            assert!(committee_capture(s, 5) < committee_capture(s, 3));
            assert!(committee_capture(s, 7) < committee_capture(s, 5));
        }
    }

    #[test]
    fn even_committees_can_be_blocked_by_half() {
        for n in (1..=9).step_by(2) {
            assert_eq!(committee_block(0.1, n), committee_capture(0.1, n));
        }
        assert!(close(committee_block(0.1, 2), 0.19, 1e-15));
        // 4 seats, 2 block: 1 − 0.9⁴ − 4·0.1·0.9³.
        assert!(close(committee_block(0.1, 4), 0.0523, 1e-15));
        assert!(committee_block(0.1, 4) > committee_capture(0.1, 4));
    }

    #[test]
    fn equal_stake_network_is_hypergeometric_and_tends_to_binomial() {
        // 4 identities, 2 the attacker's, 3 seats: 2 attacker seats in C(2,2)·C(2,1) of C(4,3).
        assert!(close(committee_capture_equal_stake(4, 2, 3), 0.5, 1e-15));
        // 30 identities, 3 the attacker's: (C(3,2)·27 + 1) / C(30,3) = 82/4060.
        assert!(close(
            committee_capture_equal_stake(30, 3, 3),
            82.0 / 4060.0,
            1e-15
        ));
        // One identity holds one seat at most.
        assert_eq!(committee_capture_equal_stake(10, 1, 3), 0.0);
        // Below the binomial here, and converging to it as the network grows.
        assert!(committee_capture_equal_stake(30, 3, 3) < committee_capture(0.1, 3));
        let big = committee_capture_equal_stake(1_000_000, 100_000, 5);
        assert!(close(big, committee_capture(0.1, 5), 1e-5));
    }

    #[test]
    fn share_for_capture_inverts_committee_capture() {
        assert!(close(share_for_capture(0.01, 1).unwrap(), 0.01, 1e-11));
        for n in [1, 3, 5, 7, 9] {
            assert!(close(share_for_capture(0.5, n).unwrap(), 0.5, 1e-11));
            for target in [1e-4, 1e-3, 0.01, 0.1, 0.5, 0.9] {
                let s = share_for_capture(target, n).unwrap();
                assert!(
                    close(committee_capture(s, n), target, 1e-9),
                    "size {n}, target {target}"
                );
            }
        }
        // Bigger committees need a bigger share for the same chance.
        let s3 = share_for_capture(0.01, 3).unwrap();
        let s5 = share_for_capture(0.01, 5).unwrap();
        assert!(0.01 < s3 && s3 < s5);
        assert_eq!(share_for_capture(0.01, 0), None);
        assert_eq!(share_for_capture(0.0, 3), None);
        assert_eq!(share_for_capture(1.5, 3), None);
    }

    #[test]
    fn recommendation_is_the_smallest_odd_size_under_target() {
        // s = 0.1: size 3 gives 0.028, size 5 gives 0.00856.
        assert_eq!(smallest_safe_committee(0.1, 0.01, 7), Some(5));
        assert_eq!(smallest_safe_committee(0.005, 0.01, 7), Some(1));
        // s = 0.2: size 7 still gives ≈ 0.033.
        assert_eq!(smallest_safe_committee(0.2, 0.01, 7), None);
        assert!(smallest_safe_committee(0.2, 0.01, 99).unwrap() > 7);
    }

    #[test]
    fn attacker_stake_and_bond_bounds() {
        assert!(close(attacker_stake(0.1, 900.0), 100.0, 1e-9));
        assert!(attacker_stake(1.0, 900.0).is_infinite());
        let (lo, hi) = bond_bounds(0.01, 99.0);
        assert!(close(lo, 1.0, 1e-12) && close(hi, 9801.0, 1e-9));
        assert!(bond_bounds(0.0, 99.0).1.is_infinite());
    }

    #[test]
    fn capture_makes_cheating_pay_more() {
        let t = Terms {
            n_chunks: 4096,
            samples: 64,
            price: 100,
            collateral: 200,
            provider_cost: 80,
        };
        let none = Capture {
            verifier: 0.0,
            committee: 0.0,
            bond_won: 0,
        };
        for f in [1, 41, 410, 4096] {
            assert_eq!(t.cheating_gain_with_capture(f, none), t.cheating_gain(f));
        }
        // Faking everything (p = 1): 80 + 0.9·(0 − 0.972·300) = −182.44.
        let ten_percent = Capture {
            verifier: 0.1,
            committee: 0.028,
            bond_won: 0,
        };
        assert!(close(
            t.cheating_gain_with_capture(4096, ten_percent),
            -182.44,
            1e-9
        ));
        assert!(t.cheating_gain_with_capture(41, ten_percent) > t.cheating_gain(41));
        assert!(t.cheating_never_pays_with_capture(ten_percent));
        // Owning every verifier, the fake is always paid.
        let all = Capture {
            verifier: 1.0,
            ..none
        };
        assert!(!t.cheating_never_pays_with_capture(all));
    }

    fn lazy(bond: u64) -> Laziness {
        Laziness {
            recheck_cost: 1_250_000.0,
            bond,
            finder_reward: 5_000_000,
            catch: detection_probability(4096, 64, 64),
        }
    }

    #[test]
    fn laziness_breaks_even_exactly_at_the_break_even_canary_rate() {
        let l = lazy(50_000_000);
        let rate = l.break_even_canary_rate().unwrap();
        assert!(l.lazy_gain(rate).abs() < 1e-6);
        assert!(l.lazy_gain(rate * 1.01) < 0.0);
        assert!(l.lazy_gain(rate * 0.99) > 0.0);
        // e / (p (b + φC)) by hand.
        assert!((rate - 1_250_000.0 / (l.catch * 55_000_000.0)).abs() < 1e-12);
    }

    #[test]
    fn the_bond_for_a_canary_rate_makes_laziness_break_even_there() {
        let l = lazy(0);
        for rate in [0.01, 0.02, 0.05, 0.2] {
            let bond = l.bond_for_canary_rate(rate);
            let at = Laziness {
                bond: bond.round() as u64,
                ..l
            };
            assert!(
                at.lazy_gain(rate).abs() < 1.0,
                "rate {rate}: {}",
                at.lazy_gain(rate)
            );
        }
        assert_eq!(l.bond_for_canary_rate(0.0), f64::INFINITY);
        // A finder share alone that covers the saving needs no bond.
        let rich = Laziness {
            finder_reward: u64::MAX / 2,
            ..l
        };
        assert_eq!(rich.bond_for_canary_rate(0.5), 0.0);
    }

    #[test]
    fn nothing_at_stake_or_too_little_has_no_break_even_rate() {
        let none = Laziness {
            bond: 0,
            finder_reward: 0,
            ..lazy(0)
        };
        assert_eq!(none.break_even_canary_rate(), None);
        let tiny = Laziness {
            bond: 1,
            finder_reward: 0,
            ..lazy(0)
        };
        assert_eq!(tiny.break_even_canary_rate(), None);
    }

    #[test]
    fn canary_costs_add_compute_finder_share_and_fee_and_spread_over_real_jobs() {
        // Always caught: compute + finder share (20 % of 200).
        assert_eq!(canary_cost(80, 200, 2_000, 5, 1.0), 120.0);
        // Never caught: compute + the fee paid on the pass.
        assert_eq!(canary_cost(80, 200, 2_000, 5, 0.0), 85.0);
        assert!((canary_cost_per_real_job(100.0, 0.2) - 25.0).abs() < 1e-12);
        assert_eq!(canary_cost_per_real_job(100.0, 0.0), 0.0);
    }

    /// The signs issue #27 requires, at the terms the code ships (`LocalSetup::default()`,
    /// which `assay localnet` and `assay demo` run) and the assumptions `assay economics`
    /// states: for the reference job and small jobs, laziness and cheating (with diligent
    /// verifiers, and with lazy or bribed ones) have negative expected gain, and honest
    /// auditing a positive margin, on every job the market accepts. A default change that
    /// breaks a sign fails here.
    #[test]
    fn the_shipped_terms_give_every_strategy_the_right_sign() {
        let params = crate::deploy::LocalSetup::default().market;
        let a = Assumptions::default();
        for (n, k, tokens) in [
            (4096, 64, 100),
            (1024, 16, 50),
            (64, 8, 10),
            (16, 2, 10),
            (16, 1, 1),
        ] {
            let shape = JobShape {
                n_chunks: n,
                samples: k,
                price: tokens * 1_000_000,
                collateral: None,
            };
            let e = DeploymentEconomics::of(&params, shape, &a).unwrap();
            assert!(e.lazy_gain_per_job < 0.0, "{shape:?}: lazy {e:?}");
            assert!(e.cheat_gain_max_lazy_verifiers < 0.0, "{shape:?}: {e:?}");
            assert!(
                e.cheat_gain_max_diligent_verifiers < 0.0,
                "{shape:?}: {e:?}"
            );
            assert!(e.audit_margin > 0.0, "{shape:?}: {e:?}");
        }
        let (margin, shape) = smallest_audit_margin(&params, &a).unwrap();
        assert!(margin > 0.0, "smallest margin {margin} at {shape:?}");
    }

    #[test]
    fn planting_for_a_catch_rate_is_the_fewest_chunks_that_reach_it() {
        for (n, k) in [(16, 2), (64, 8), (4096, 64), (10, 10)] {
            let m = planted_for_catch(n, k, 0.9);
            assert!(detection_probability(n, k, m) >= 0.9, "{n} {k}");
            assert!(
                m == 1 || detection_probability(n, k, m - 1) < 0.9,
                "{n} {k}"
            );
        }
        assert_eq!(planted_for_catch(16, 2, 1.0), 15);
    }
}
