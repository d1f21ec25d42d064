//! A canary's planted fault must be rejected by the job's own comparison rule, for every
//! built-in kernel and every element type. Before, the canary flipped the first byte of a
//! chunk: for an f32 output that is the lowest mantissa byte, a change every float rule
//! accepts (the render and matmul canaries were passed by a lazy verifier and by an
//! honest one alike). `plant_fault` moves the first element by twice its bound.
mod common;

use assay_gpu::kernels::{hashmix, matmul, render};
use assay_gpu::{compare_chunk, plant_fault, CompareRule, ElementType, JobBundle, Pass};
use common::gpu;

/// Plants a fault in every chunk of `job` (as the canary does: honest output, and the
/// verifier's scale for the float rule) and checks the rule rejects each; returns how
/// many chunks the old first-byte flip would have slipped past the rule.
fn every_planted_chunk_is_rejected(job: &JobBundle) -> usize {
    let prepared = gpu().prepare(job).unwrap();
    let honest = prepared.run_all().unwrap();
    let rule = &job.manifest.compare;
    let element = job.manifest.output.element;
    let scale = match rule {
        CompareRule::Float {
            scale_entry_point: Some(_),
            ..
        } => Some(prepared.run(Pass::Scale, honest.indices()).unwrap()),
        _ => None,
    };
    let mut flips_accepted = 0;
    for (pos, (index, out)) in honest.iter().enumerate() {
        let s = scale.as_ref().map(|s| s.slot(pos));
        let planted = plant_fault(rule, element, out, s);
        assert_ne!(planted, out, "chunk {index} is changed");
        assert!(
            compare_chunk(rule, element, &planted, out, s).is_err(),
            "chunk {index}: the planted fault passes the job's rule"
        );
        let mut flipped = out.to_vec();
        flipped[0] ^= 0xff;
        flips_accepted += usize::from(compare_chunk(rule, element, &flipped, out, s).is_ok());
    }
    flips_accepted
}

#[test]
fn hashmix_u32_exact_rejects_the_planted_fault() {
    let job = hashmix::job(&hashmix::HashMixParams {
        chunks: 8,
        elements_per_chunk: 256,
        rounds: 4,
        n_seeds: 64,
        seed: 3,
    })
    .unwrap();
    assert_eq!(job.manifest.output.element, ElementType::U32);
    assert_eq!(every_planted_chunk_is_rejected(&job), 0);
}

#[test]
fn matmul_f32_float_rule_rejects_the_planted_fault_where_the_old_flip_passed() {
    let job = matmul::job(&matmul::MatmulParams {
        m: 64,
        k: 32,
        n: 64,
        rows_per_chunk: 16,
        seed: 5,
        variant: matmul::MatmulVariant::for_shape(gpu(), 64, 16),
    })
    .unwrap();
    assert_eq!(job.manifest.output.element, ElementType::F32);
    let flips = every_planted_chunk_is_rejected(&job);
    eprintln!("matmul: the old first-byte flip passed {flips} of 4 chunks");
    assert!(flips > 0, "the old flip passed the float rule");
}

#[test]
fn render_f32_float_rule_rejects_the_planted_fault_where_the_old_flip_passed() {
    let job = render::job(&render::RenderParams {
        width: 32,
        height: 16,
        tile: 8,
        spheres: 3,
        steps: 24,
        seed: 5,
    })
    .unwrap();
    assert_eq!(job.manifest.output.element, ElementType::F32);
    let flips = every_planted_chunk_is_rejected(&job);
    eprintln!("render: the old first-byte flip passed {flips} of 8 chunks");
    assert!(flips > 0, "the old flip passed the float rule");
}

/// A comparison case: its name, rule, element type, the honest bytes and, if any, the
/// planted bytes.
type Case = (String, CompareRule, ElementType, Vec<u8>, Option<Vec<u8>>);

/// The element types no built-in kernel outputs, under the rules they may carry: i32
/// exact, f16 and f32 under a float rule with and without a scale, at zero, tiny, huge
/// and non-finite honest values.
#[test]
fn every_element_type_and_rule_rejects_the_planted_fault() {
    let float = |max_abs: f32, max_rel: f32| CompareRule::Float {
        max_abs,
        max_rel,
        scale_entry_point: None,
    };
    let f32s = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let f16s = |v: &[f32]| {
        v.iter()
            .flat_map(|x| half::f16::from_f32(*x).to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let i32s = |v: &[i32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let values = [0.0f32, 1e-30, -3.5, 6.0e4, 3.0e38, f32::NAN, f32::INFINITY];
    let mut cases: Vec<Case> = vec![];
    for v in values {
        cases.push((
            format!("i32 exact {v}"),
            CompareRule::Exact,
            ElementType::I32,
            i32s(&[v as i32, 7]),
            None,
        ));
        for (rule, name) in [(float(1e-3, 0.0), "abs"), (float(1e-6, 1e-3), "rel")] {
            let scale = f32s(&[1e4, 1.0]);
            cases.push((
                format!("f32 {name} {v}"),
                rule.clone(),
                ElementType::F32,
                f32s(&[v, 2.0]),
                Some(scale),
            ));
            let scale = f16s(&[100.0, 1.0]);
            cases.push((
                format!("f16 {name} {v}"),
                rule,
                ElementType::F16,
                f16s(&[v, 2.0]),
                Some(scale),
            ));
        }
    }
    for (name, rule, element, honest, scale) in cases {
        let planted = plant_fault(&rule, element, &honest, scale.as_deref());
        assert!(
            compare_chunk(&rule, element, &planted, &honest, scale.as_deref()).is_err(),
            "{name}: the planted fault passes"
        );
    }
    assert_eq!(
        plant_fault(&CompareRule::Exact, ElementType::U32, &[], None),
        vec![0xff]
    );
}
