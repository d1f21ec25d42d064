//! Output comparison rules (see [`crate::CompareRule`] and `docs/verification.md`).

use crate::manifest::{CompareRule, ElementType};

/// Why two chunk outputs do not match.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Mismatch {
    #[error("length {got} differs from reference length {reference}")]
    Length { got: usize, reference: usize },
    #[error("scale buffer has length {scale}, expected {reference}")]
    ScaleLength { scale: usize, reference: usize },
    #[error("first differing byte at offset {offset}")]
    Bytes { offset: usize },
    #[error("element {element}: got {got:e}, reference {reference:e}, |diff| {diff:e} > bound {bound:e}")]
    Float {
        element: usize,
        got: f32,
        reference: f32,
        diff: f64,
        bound: f64,
    },
}

/// The elements of `bytes` as f32 (`f16` widened exactly); integer types are never
/// compared as floats (the manifest refuses a float rule on them).
fn floats(element: ElementType, bytes: &[u8]) -> Box<dyn Iterator<Item = f32> + '_> {
    match element {
        ElementType::F16 => Box::new(
            bytes
                .chunks_exact(2)
                .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32()),
        ),
        _ => Box::new(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        ),
    }
}

/// Compares a served chunk `got` with the verifier's `reference` under `rule`, both
/// slices of `element`s.
///
/// For [`CompareRule::Float`], element `e` passes when both are bit-identical, or both are
/// finite and `|got − ref| <= max_abs + max_rel · |scale_e|` (computed in f64; `scale_e`
/// is 0 when `scale` is `None`). Non-finite values pass only when bit-identical.
pub fn compare_chunk(
    rule: &CompareRule,
    element: ElementType,
    got: &[u8],
    reference: &[u8],
    scale: Option<&[u8]>,
) -> Result<(), Mismatch> {
    if got.len() != reference.len() {
        return Err(Mismatch::Length {
            got: got.len(),
            reference: reference.len(),
        });
    }
    match rule {
        CompareRule::Exact => match got.iter().zip(reference).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(offset) => Err(Mismatch::Bytes { offset }),
        },
        CompareRule::Float {
            max_abs, max_rel, ..
        } => {
            let size = element.size() as usize;
            if !got.len().is_multiple_of(size) {
                return Err(Mismatch::Length {
                    got: got.len(),
                    reference: reference.len() / size * size,
                });
            }
            if let Some(s) = scale {
                if s.len() != reference.len() {
                    return Err(Mismatch::ScaleLength {
                        scale: s.len(),
                        reference: reference.len(),
                    });
                }
            }
            let zeros = vec![0u8; if scale.is_none() { reference.len() } else { 0 }];
            let scale = scale.unwrap_or(&zeros);
            let pairs = floats(element, got).zip(floats(element, reference));
            for (element, ((g, r), s)) in pairs.zip(floats(element, scale)).enumerate() {
                if g.to_bits() == r.to_bits() {
                    continue;
                }
                let bound = f64::from(*max_abs) + f64::from(*max_rel) * f64::from(s).abs();
                let diff = (f64::from(g) - f64::from(r)).abs();
                // NaN/inf make `diff <= bound` false, as intended.
                if !(g.is_finite() && r.is_finite() && bound.is_finite() && diff <= bound) {
                    return Err(Mismatch::Float {
                        element,
                        got: g,
                        reference: r,
                        diff,
                        bound,
                    });
                }
            }
            Ok(())
        }
    }
}

/// Largest `|got − ref| / bound` over all elements (0 when all are bit-identical): how
/// much of the float rule's budget a pair of outputs uses. `None` for `Exact` rules.
pub fn bound_usage(
    rule: &CompareRule,
    element: ElementType,
    got: &[u8],
    reference: &[u8],
    scale: Option<&[u8]>,
) -> Option<f64> {
    let CompareRule::Float {
        max_abs, max_rel, ..
    } = rule
    else {
        return None;
    };
    let zeros = vec![0u8; reference.len()];
    let scale = scale.unwrap_or(&zeros);
    let mut worst = 0f64;
    let pairs = floats(element, got).zip(floats(element, reference));
    for ((g, r), s) in pairs.zip(floats(element, scale)) {
        let bound = f64::from(*max_abs) + f64::from(*max_rel) * f64::from(s).abs();
        let diff = (f64::from(g) - f64::from(r)).abs();
        if diff > 0.0 {
            worst = worst.max(diff / bound);
        }
    }
    Some(worst)
}

/// A copy of the `honest` chunk output with one planted fault that `rule` rejects (a
/// canary's wrong chunk): for [`CompareRule::Exact`] its first byte flipped; for
/// [`CompareRule::Float`] its first element moved by twice that element's bound (with the
/// verifier's `scale` for the chunk, which the canary computes with the scale pass as the
/// verifier does) plus its own magnitude, so the wrong value is an ordinary finite number
/// well outside the tolerance (a NaN only if the element type cannot hold such a value).
/// An empty output gets one byte. The result is checked with [`compare_chunk`]:
/// whatever the rule, the planted chunk never passes.
pub fn plant_fault(
    rule: &CompareRule,
    element: ElementType,
    honest: &[u8],
    scale: Option<&[u8]>,
) -> Vec<u8> {
    let mut planted = honest.to_vec();
    let Some(first) = planted.first_mut() else {
        return vec![0xff];
    };
    match rule {
        CompareRule::Exact => *first ^= 0xff,
        CompareRule::Float {
            max_abs, max_rel, ..
        } => {
            let size = element.size() as usize;
            let value = floats(element, &planted[..size.min(planted.len())])
                .next()
                .unwrap_or(0.0);
            let s = scale.and_then(|s| floats(element, s).next()).unwrap_or(0.0);
            let bound = f64::from(*max_abs) + f64::from(*max_rel) * f64::from(s).abs();
            let magnitude = if value.is_finite() {
                f64::from(value).abs()
            } else {
                0.0
            };
            let wrong = if value.is_finite() {
                f64::from(value)
            } else {
                0.0
            } + 2.0 * bound
                + magnitude
                + 1.0;
            write_float(element, &mut planted[..size], wrong);
            if compare_chunk(rule, element, &planted, honest, scale).is_ok() {
                // Only a value the element type cannot hold apart from the honest one
                // gets here: a NaN is never within any bound.
                write_float(element, &mut planted[..size], f64::NAN);
            }
        }
    }
    debug_assert!(compare_chunk(rule, element, &planted, honest, scale).is_err());
    planted
}

/// Writes `value` as one `element` (f32, or f16 rounded to nearest) into `out`.
fn write_float(element: ElementType, out: &mut [u8], value: f64) {
    match element {
        ElementType::F16 => out.copy_from_slice(&half::f16::from_f64(value).to_le_bytes()),
        _ => out.copy_from_slice(&(value as f32).to_le_bytes()),
    }
}
