//! Bad models and batches are refused with a named error before anything is built,
//! uploaded or paid (no device is opened here).
use assay_model::{
    compile, compile_in, npy_f32, Batch, BatchError, Layer, Layout, ModelError, Net,
};
use npyz::WriterBuilder;

fn model(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{}/../../models/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn refused(name: &str) -> ModelError {
    Net::from_onnx(&model("testdata", &format!("{name}.onnx"))).expect_err(name)
}

#[test]
fn an_unsupported_operator_is_named() {
    let e = refused("unsupported_op");
    assert!(
        matches!(&e, ModelError::UnsupportedOp { op, .. } if op == "Exp"),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("Exp") && e.to_string().contains("Gemm, MatMul"),
        "{e}"
    );
}

#[test]
fn a_dynamic_item_shape_is_refused() {
    let e = refused("dynamic_shape");
    assert!(
        matches!(e, ModelError::DynamicShape { axis: 1, .. }),
        "{e:?}"
    );
}

#[test]
fn a_model_over_the_device_limits_is_refused() {
    // A layer of 2,048 values: one dispatch per layer runs it, one dispatch per item
    // (private arrays) is capped at 1,024.
    let wide = Net::from_onnx(&model("testdata", "too_wide.onnx")).unwrap();
    let one = Batch::from_npy(&npy_f32(&[4, 1], &[0.5; 4])).unwrap();
    assert!(compile(&wide, &one, 4).is_ok());
    let e = compile_in(&wide, &one, 4, Layout::PerItem).expect_err("private memory");
    assert!(
        matches!(
            e,
            ModelError::TooLarge {
                value: 2048,
                limit: 1024,
                ..
            }
        ),
        "{e:?}"
    );
    // Followed by a Relu, the layers pass through scratch (batch_per_chunk × widest × 16
    // bytes): fine at 64 items per chunk, over WebGPU's 128 MiB binding at 5,000.
    let mut two = wide.clone();
    two.layers.push(Layer::Relu);
    assert!(compile(&two, &one, 64).is_ok());
    let e = compile(&two, &one, 5_000).expect_err("scratch over the binding limit");
    assert!(
        matches!(
            e,
            ModelError::TooLarge {
                value: 163_840_000,
                limit: 134_217_728,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_second_runtime_input_is_refused() {
    assert!(matches!(refused("two_inputs"), ModelError::InputCount(2)));
}

#[test]
fn garbage_bytes_are_a_parse_error() {
    let e = Net::from_onnx(b"not an onnx model").expect_err("garbage");
    assert!(matches!(e, ModelError::Parse(_)), "{e:?}");
}

#[test]
fn a_batch_whose_shape_disagrees_with_the_model_is_refused() {
    let net = Net::from_onnx(&model("digits", "mlp.onnx")).unwrap();
    let batch = Batch::from_npy(&npy_f32(&[3, 63], &[0.5; 189])).unwrap();
    let e = compile(&net, &batch, 8).expect_err("63 values per item, the model takes 64");
    assert!(
        matches!(&e, ModelError::BatchShape { expected, got } if expected == &[64] && got == &[63]),
        "{e:?}"
    );
    let batch = Batch::from_npy(&npy_f32(&[3, 8, 8], &[0.5; 192])).unwrap();
    assert!(
        matches!(compile(&net, &batch, 8), Err(ModelError::BatchShape { .. })),
        "8x8 items, the model takes 64"
    );
}

#[test]
fn a_batch_of_the_wrong_dtype_or_no_items_is_refused() {
    let ints = {
        let mut out = Vec::new();
        let mut w = npyz::WriteOptions::<i64>::new()
            .default_dtype()
            .shape(&[2, 64])
            .writer(&mut out)
            .begin_nd()
            .unwrap();
        w.extend(0..128i64).unwrap();
        w.finish().unwrap();
        out
    };
    assert!(matches!(
        Batch::from_npy(&ints),
        Err(BatchError::DType { .. })
    ));
    assert!(matches!(
        Batch::from_npy(&npy_f32(&[0, 64], &[])),
        Err(BatchError::Empty(_))
    ));
    assert!(matches!(
        Batch::from_npy(&npy_f32(&[64], &[0.0; 64])),
        Err(BatchError::Empty(_))
    ));
    assert!(matches!(
        Batch::from_npy(b"\x93NUMPY garbage"),
        Err(BatchError::Npy(_))
    ));
}

#[test]
fn zero_items_per_chunk_is_refused() {
    let net = Net::from_onnx(&model("digits", "mlp.onnx")).unwrap();
    let batch = Batch::from_npy(&npy_f32(&[1, 64], &[0.0; 64])).unwrap();
    assert!(matches!(
        compile(&net, &batch, 0),
        Err(ModelError::BatchPerChunk(0))
    ));
}

#[test]
fn a_softmax_before_the_last_step_is_refused() {
    let e = refused("softmax_inside");
    assert!(
        matches!(&e, ModelError::Unsupported { op, .. } if op == "Gemm"),
        "{e:?}"
    );
    assert!(e.to_string().contains("after a Softmax"), "{e}");
}

/// NaN bits differ between devices and NaN or infinity passes the comparison only
/// bit-identical: a batch or model that makes them would let a buyer have an honest
/// provider judged faulty. Refused before anything is posted.
#[test]
fn non_finite_inputs_parameters_and_overflowing_values_are_refused() {
    let net = Net::from_onnx(&model("digits", "mlp.onnx")).unwrap();
    let mut values = vec![0.5; 3 * 64];
    values[64 + 7] = f32::NAN;
    let batch = Batch::from_npy(&npy_f32(&[3, 64], &values)).unwrap();
    assert!(matches!(
        compile(&net, &batch, 8),
        Err(ModelError::NonFiniteInput { item: 1, index: 7 })
    ));

    let fine = Batch::from_npy(&npy_f32(&[3, 64], &[0.5; 192])).unwrap();
    let mut broken = net.clone();
    if let assay_model::Layer::Dense { weights, .. } = &mut broken.layers[0] {
        weights[3] = f32::INFINITY;
    }
    assert!(matches!(
        compile(&broken, &fine, 8),
        Err(ModelError::NonFiniteParameter { layer: 0, .. })
    ));

    // Finite inputs that the weights blow past f32's range.
    let huge = Batch::from_npy(&npy_f32(&[3, 64], &[1e35; 192])).unwrap();
    assert!(matches!(
        compile(&net, &huge, 8),
        Err(ModelError::MayOverflow { .. })
    ));
    assert!(compile(&net, &fine, 8).is_ok());
}
