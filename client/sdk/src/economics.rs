//! Audit strength as a price tier: how likely a cheat is caught, and which sample count
//! makes cheating a losing bet (derivation in `docs/economics.md`).

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
}
