//! Conformance against tests nobody here wrote: the `onnx` package's backend node tests
//! for every operator the compiler supports (scripts/onnx/node_tests.py writes them as a
//! job takes them: input 0 is the batch, the other inputs constants). Each case is either
//! refused by the compiler with a named error, or compiled, run by the engine, and its
//! outputs compared with the package's reference under the derived bound. A case the
//! compiler accepts and the engine gets wrong fails the run.
#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "support/python.rs"]
mod python;

use std::path::{Path, PathBuf};
use std::process::Command;

use assay_gpu::{compare_chunk, ElementType, Pass};
use assay_model::{compile, Batch, CompiledModel, Layer, Layout, Net};

/// Runs one case; `Ok(None)` when it passed, `Ok(Some(reason))` when the compiler refuses
/// it. A case that passes is run a second time with `+ 0` layers appended, which make
/// it a chain of two or more layers and so a dispatch per layer ([`Layout::PerLayer`]);
/// the case as it is runs in one dispatch when it is a single layer.
fn run_case(dir: &Path) -> Result<Option<String>, String> {
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| format!("{name}: {e}"));
    let net = match Net::from_onnx(&read("model.onnx")?) {
        Ok(net) => net,
        Err(e) => return Ok(Some(e.to_string())),
    };
    let batch = match Batch::from_npy(&read("input.npy")?) {
        Ok(b) => b,
        Err(e) => return Ok(Some(e.to_string())),
    };
    let expected =
        Batch::from_npy(&read("expected.npy")?).map_err(|e| format!("expected.npy: {e}"))?;
    let job = match compile(&net, &batch, batch.items() as u32) {
        Ok(job) => job,
        Err(e) => return Ok(Some(e.to_string())),
    };
    check(&job, &expected).map_err(|e| format!("{:?}: {e}", Layout::default().for_net(&net)))?;
    let mut staged = net.clone();
    while staged.layers.len() < 2 {
        staged.layers.push(Layer::AddConstant {
            constant: vec![0.0; net.output_len()],
        });
    }
    let job = compile(&staged, &batch, batch.items() as u32).map_err(|e| e.to_string())?;
    if job.bundle.manifest.stages.is_empty() {
        return Err("a chain of two layers compiled to one dispatch".into());
    }
    check(&job, &expected).map_err(|e| format!("with + 0 layers, a dispatch per layer: {e}"))?;
    Ok(None)
}

/// Runs `job` and compares its outputs with the package's `expected` under the bound.
fn check(job: &CompiledModel, expected: &Batch) -> Result<(), String> {
    let prepared = common::gpu()
        .prepare(&job.bundle)
        .map_err(|e| e.to_string())?;
    let out = prepared.run_all().map_err(|e| e.to_string())?;
    if job.info.softmax {
        // The job commits the logits; the reader applies the final Softmax (in f64): its
        // result is checked to 8 ULP of the package's reference.
        let rows = job.outputs(out.as_bytes()).ok_or("output length")?;
        let got = job.info.presented(&rows).concat();
        for (i, (g, r)) in got.iter().zip(&expected.values).enumerate() {
            if (g - r).abs() > 8.0 * f32::EPSILON * r.abs().max(f32::MIN_POSITIVE) {
                return Err(format!("softmax element {i}: got {g:e}, reference {r:e}"));
            }
        }
        return Ok(());
    }
    let bound = prepared.run(Pass::Scale, &[0]).map_err(|e| e.to_string())?;
    let reference = assay_gpu::kernels::f32_bytes(&expected.values);
    compare_chunk(
        &job.bundle.manifest.compare,
        ElementType::F32,
        out.slot(0),
        &reference,
        Some(bound.slot(0)),
    )
    .map_err(|e| format!("engine vs onnx reference: {e}"))
}

fn main() {
    let out = std::env::temp_dir().join(format!("assay-onnx-node-tests-{}", std::process::id()));
    let status = Command::new(python::onnx_python())
        .arg(python::onnx_script("node_tests.py"))
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            eprintln!(
                "onnx node tests: could not write the cases with {} ({other:?}); install the \
                 `onnx` package with scripts/install-deps.sh or set ASSAY_ONNX_PYTHON",
                python::onnx_python().display()
            );
            std::process::exit(1);
        }
    }
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let (mut run, mut passed, mut failed) = (0, 0, Vec::new());
    let mut refused = Vec::new();
    let mut ops = std::collections::BTreeSet::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        match run_case(case) {
            Ok(Some(reason)) => refused.push((name, reason)),
            Ok(None) => {
                run += 1;
                passed += 1;
                if let Ok(net) = Net::from_onnx(&std::fs::read(case.join("model.onnx")).unwrap()) {
                    ops.extend(net.onnx_ops);
                }
                println!("  pass    {name}");
            }
            Err(e) => {
                run += 1;
                failed.push((name, e));
            }
        }
    }
    for (name, reason) in &refused {
        println!("  refused {name}: {reason}");
    }
    for (name, e) in &failed {
        println!("  FAILED  {name}: {e}");
    }
    let _ = std::fs::remove_dir_all(&out);
    println!("onnx node tests: {run} run, {passed} passed");
    println!(
        "onnx node tests passed with a dispatch per layer too (+ 0 layers appended): {passed}"
    );
    println!(
        "onnx node tests refused by the compiler (named errors): {}",
        refused.len()
    );
    println!(
        "onnx node tests ops covered: {}",
        ops.into_iter().collect::<Vec<_>>().join(", ")
    );
    if !failed.is_empty() || passed == 0 {
        std::process::exit(1);
    }
}
