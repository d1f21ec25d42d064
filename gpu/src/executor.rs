//! wgpu executor: adapter choice, one compiled pipeline per job, batched chunk dispatch,
//! readback, GPU timestamps and a watchdog.

use std::time::{Duration, Instant};

use crate::manifest::{
    Feature, JobBundle, ManifestError, CHUNK_UNIFORM_BINDING, EXTENDED_LIMITS, OUTPUT_BINDING,
};

/// Executor failures.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no GPU adapter found (backends {0}). Install a Vulkan driver; for a software device: \
         apt-get install mesa-vulkan-drivers libvulkan1"
    )]
    NoAdapter(String),
    #[error("device request failed: {0}")]
    RequestDevice(String),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("wgpu rejected {stage}: {message}")]
    Wgpu {
        stage: &'static str,
        message: String,
    },
    #[error("GPU watchdog: work did not finish within {budget:?}; the device must be discarded")]
    Watchdog { budget: Duration },
    #[error("chunk index {index} is out of range (job has {chunks} chunks)")]
    ChunkOutOfRange { index: u32, chunks: u32 },
    #[error("no chunks requested")]
    NoChunksRequested,
    #[error("readback failed: {0}")]
    Readback(String),
}

/// Executor options.
#[derive(Clone, Debug)]
pub struct GpuOptions {
    /// Longest a single submitted batch may run before [`GpuError::Watchdog`].
    pub watchdog: Duration,
    /// Upper bound on output bytes per submitted batch (chunks are batched up to this).
    pub max_batch_bytes: u64,
    /// Upper bound on chunks per submitted batch.
    pub max_batch_chunks: u32,
}

impl Default for GpuOptions {
    fn default() -> Self {
        Self {
            watchdog: Duration::from_secs(60),
            max_batch_bytes: 32 << 20,
            max_batch_chunks: 1024,
        }
    }
}

/// Rank of an adapter type: lower is preferred.
fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    }
}

/// A device to run jobs on.
pub struct Gpu {
    adapter_info: wgpu::AdapterInfo,
    device: wgpu::Device,
    queue: wgpu::Queue,
    timestamps: bool,
    subgroups: bool,
    options: GpuOptions,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Gpu({} {:?} {:?})",
            self.adapter_info.name, self.adapter_info.backend, self.adapter_info.device_type
        )
    }
}

impl Gpu {
    /// Opens the best adapter with default options.
    pub fn new() -> Result<Self, GpuError> {
        Self::with_options(GpuOptions::default())
    }

    /// Opens the best adapter: a discrete GPU, else integrated, else virtual, else a CPU
    /// implementation (Mesa lavapipe). Backends come from `WGPU_BACKEND` when set.
    pub fn with_options(options: GpuOptions) -> Result<Self, GpuError> {
        let desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let mut adapters = pollster::block_on(instance.enumerate_adapters(backends));
        for a in &adapters {
            let i = a.get_info();
            tracing::debug!(name = %i.name, backend = ?i.backend, device_type = ?i.device_type, driver = %i.driver, "adapter found");
        }
        adapters.sort_by_key(|a| rank(a.get_info().device_type));
        let adapter = adapters
            .into_iter()
            .next()
            .ok_or_else(|| GpuError::NoAdapter(format!("{backends:?}")))?;
        let adapter_info = adapter.get_info();
        let timestamps = adapter.features().contains(wgpu::Features::TIMESTAMP_QUERY);
        // Every optional feature a manifest may require is requested where offered, so a
        // job that requires it runs (the built-in matmul's subgroup variant shares A loads
        // across a subgroup on CPU adapters).
        let mut required_features = wgpu::Features::empty();
        if timestamps {
            required_features |= wgpu::Features::TIMESTAMP_QUERY;
        }
        for feature in [Feature::ShaderF16, Feature::Subgroups] {
            if adapter.features().contains(feature.wgpu()) {
                required_features |= feature.wgpu();
            }
        }
        let subgroups = required_features.contains(wgpu::Features::SUBGROUP);
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("assay-gpu"),
            required_features,
            required_limits: adapter.limits(),
            ..Default::default()
        }))
        .map_err(|e| GpuError::RequestDevice(e.to_string()))?;
        tracing::info!(
            name = %adapter_info.name,
            backend = ?adapter_info.backend,
            device_type = ?adapter_info.device_type,
            driver = %adapter_info.driver_info,
            timestamps,
            "GPU adapter selected"
        );
        Ok(Self {
            adapter_info,
            device,
            queue,
            timestamps,
            subgroups,
            options,
        })
    }

    /// The chosen adapter.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.adapter_info
    }

    /// Whether the adapter is a CPU implementation (e.g. lavapipe).
    pub fn is_cpu(&self) -> bool {
        self.adapter_info.device_type == wgpu::DeviceType::Cpu
    }

    /// Whether the device has wgpu's `SUBGROUP` feature (WGSL `enable subgroups;`).
    pub fn has_subgroups(&self) -> bool {
        self.subgroups
    }

    /// What this device can run, as protocol capability bits: each optional feature it
    /// has, and `extended-limits` when it meets the whole extended tier. A verifier
    /// registers these; the draws give it only jobs whose needs they cover.
    pub fn capabilities(&self) -> assay_protocol::capability::Capabilities {
        let features = self.device.features();
        let limits = self.device.limits();
        let extended = EXTENDED_LIMITS.iter().all(|(name, value)| {
            crate::manifest::device_limit(name, &limits).is_some_and(|have| have >= *value)
        });
        [Feature::ShaderF16, Feature::Subgroups]
            .into_iter()
            .filter(|f| features.contains(f.wgpu()))
            .fold(0, |caps, f| caps | f.capability())
            | if extended {
                assay_protocol::capability::EXTENDED_LIMITS
            } else {
                0
            }
    }

    /// Whether GPU timestamps are measured.
    pub fn has_timestamps(&self) -> bool {
        self.timestamps
    }

    /// The device's limits.
    pub fn limits(&self) -> wgpu::Limits {
        self.device.limits()
    }

    /// Validates `job` (manifest, kernel via naga, input hashes, device limits), then
    /// compiles its pipeline(s) once and uploads its inputs. Nothing runs if any check fails.
    pub fn prepare(&self, job: &JobBundle) -> Result<PreparedJob<'_>, GpuError> {
        job.validate()?;
        job.manifest.validate_device(
            &self.adapter_info.name,
            self.device.features(),
            &self.device.limits(),
        )?;
        let m = &job.manifest;
        let limits = self.device.limits();

        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let chunk_bytes = m.chunk_bytes();
        let entries = layout_entries(m, chunk_bytes);
        let bgl = self
            .device
            .create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some("job bindings"),
                entries: &entries,
            });
        let t0 = Instant::now();
        let (output_pass, scale_pass) = self.compile_passes(job, &bgl);
        let compile_time = t0.elapsed();

        let inputs = self.upload_inputs(job);

        let out_align = u64::from(limits.min_storage_buffer_offset_alignment);
        let uni_align = u64::from(limits.min_uniform_buffer_offset_alignment);
        let out_stride = chunk_bytes.div_ceil(out_align) * out_align;
        let scratch_strides: Vec<u64> = m
            .scratch
            .iter()
            .map(|s| s.len.div_ceil(out_align) * out_align)
            .collect();
        let per_chunk = out_stride + scratch_strides.iter().sum::<u64>();
        let largest_stride = scratch_strides.iter().fold(out_stride, |a, &b| a.max(b));
        let batch = (self.options.max_batch_bytes / per_chunk)
            .clamp(1, u64::from(self.options.max_batch_chunks))
            .min(limits.max_buffer_size / largest_stride)
            .min(m.grid.chunks)
            .max(1) as u32;
        let out_buf = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("chunk outputs"),
            size: out_stride * u64::from(batch),
            usage: wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_SRC
                | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let readback = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("readback"),
            size: out_stride * u64::from(batch),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut scratch: Vec<Scratch> = m
            .scratch
            .iter()
            .zip(&scratch_strides)
            .map(|(spec, &stride)| Scratch {
                binding: spec.binding,
                len: spec.len,
                stride,
                buffer: self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("chunk scratch"),
                    size: stride * u64::from(batch),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                }),
            })
            .collect();
        scratch.sort_by_key(|s| s.binding);
        let uniforms = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("chunk uniforms"),
            size: uni_align * u64::from(batch),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut bg_entries = vec![
            wgpu::BindGroupEntry {
                binding: CHUNK_UNIFORM_BINDING,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &uniforms,
                    offset: 0,
                    size: wgpu::BufferSize::new(16),
                }),
            },
            wgpu::BindGroupEntry {
                binding: OUTPUT_BINDING,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &out_buf,
                    offset: 0,
                    size: wgpu::BufferSize::new(chunk_bytes),
                }),
            },
        ];
        for (spec, buf) in m.inputs.iter().zip(&inputs) {
            bg_entries.push(wgpu::BindGroupEntry {
                binding: spec.binding,
                resource: buf.as_entire_binding(),
            });
        }
        for s in &scratch {
            bg_entries.push(wgpu::BindGroupEntry {
                binding: s.binding,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &s.buffer,
                    offset: 0,
                    size: wgpu::BufferSize::new(s.len),
                }),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("job bind group"),
            layout: &bgl,
            entries: &bg_entries,
        });
        let timestamps = self.timestamps.then(|| self.timestamp_queries());
        if let Some(err) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Wgpu {
                stage: "pipeline creation",
                message: err.to_string(),
            });
        }
        tracing::info!(
            chunks = m.grid.chunks,
            chunk_bytes,
            batch,
            compile_ms = compile_time.as_secs_f64() * 1e3,
            "job prepared"
        );
        Ok(PreparedJob {
            gpu: self,
            n_chunks: m.n_chunks(),
            chunk_bytes: chunk_bytes as usize,
            output_pass,
            scale_pass,
            bind_group,
            out_buf,
            scratch,
            readback,
            uniforms,
            _inputs: inputs,
            out_stride,
            uni_align,
            batch,
            timestamps,
        })
    }

    /// Compiles every dispatch of the job's output pass and of its scale pass (when the
    /// rule has one) against the job's bind group layout.
    fn compile_passes(
        &self,
        job: &JobBundle,
        bgl: &wgpu::BindGroupLayout,
    ) -> (CompiledPass, Option<CompiledPass>) {
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some("job kernel"),
                source: wgpu::ShaderSource::Wgsl(job.kernel_source.as_str().into()),
            });
        let layout = self
            .device
            .create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some("job layout"),
                bind_group_layouts: &[Some(bgl)],
                immediate_size: 0,
            });
        let make = |entry: &str| {
            self.device
                .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(entry),
                    layout: Some(&layout),
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    cache: None,
                })
        };
        let compiled = |dispatches: Vec<crate::manifest::Dispatch>| {
            dispatches
                .iter()
                .map(|d| (make(d.entry_point), d.workgroups))
                .collect::<Vec<_>>()
        };
        let m = &job.manifest;
        (
            compiled(m.output_dispatches()),
            m.scale_dispatches().map(compiled),
        )
    }

    /// Uploads the job's input blobs into storage buffers, in binding order.
    fn upload_inputs(&self, job: &JobBundle) -> Vec<wgpu::Buffer> {
        job.inputs
            .iter()
            .map(|blob| {
                let buf = self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("input"),
                    size: blob.len() as u64,
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                    mapped_at_creation: false,
                });
                self.queue.write_buffer(&buf, 0, blob);
                buf
            })
            .collect()
    }

    /// The query set and buffers that time a batch on the GPU (two timestamps).
    fn timestamp_queries(&self) -> (wgpu::QuerySet, wgpu::Buffer, wgpu::Buffer) {
        let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("timestamps"),
            ty: wgpu::QueryType::Timestamp,
            count: 2,
        });
        let resolve = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamp resolve"),
            size: 16,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let read = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("timestamp read"),
            size: 16,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        (set, resolve, read)
    }
}

/// The bind group layout of a job's kernel ABI: the chunk uniform and the chunk's own
/// output slice (both at dynamic offsets), each input read-only, and each scratch buffer
/// (the chunk's own region, at a dynamic offset).
fn layout_entries(m: &crate::JobManifest, chunk_bytes: u64) -> Vec<wgpu::BindGroupLayoutEntry> {
    let entry = |binding, ty, dynamic, min: Option<u64>| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: dynamic,
            min_binding_size: min.and_then(wgpu::BufferSize::new),
        },
        count: None,
    };
    let read_write = wgpu::BufferBindingType::Storage { read_only: false };
    let read = wgpu::BufferBindingType::Storage { read_only: true };
    let uniform = wgpu::BufferBindingType::Uniform;
    let mut entries = vec![
        entry(CHUNK_UNIFORM_BINDING, uniform, true, Some(16)),
        entry(OUTPUT_BINDING, read_write, true, Some(chunk_bytes)),
    ];
    entries.extend(m.inputs.iter().map(|i| entry(i.binding, read, false, None)));
    entries.extend(
        m.scratch
            .iter()
            .map(|s| entry(s.binding, read_write, true, Some(s.len))),
    );
    entries
}

/// A scratch buffer: one `stride`-byte region per chunk of a batch, `len` of it bound.
struct Scratch {
    binding: u32,
    len: u64,
    stride: u64,
    buffer: wgpu::Buffer,
}

/// A compiled pass: each dispatch's pipeline and workgroups, in order.
type CompiledPass = Vec<(wgpu::ComputePipeline, [u32; 3])>;

/// Which entry point to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// The job's output entry point.
    Output,
    /// The float rule's scale entry point (verifier side).
    Scale,
}

/// A job whose pipeline is compiled and whose inputs are on the device.
pub struct PreparedJob<'g> {
    gpu: &'g Gpu,
    n_chunks: u32,
    chunk_bytes: usize,
    output_pass: CompiledPass,
    scale_pass: Option<CompiledPass>,
    bind_group: wgpu::BindGroup,
    out_buf: wgpu::Buffer,
    /// Sorted by binding, the order of their dynamic offsets.
    scratch: Vec<Scratch>,
    readback: wgpu::Buffer,
    uniforms: wgpu::Buffer,
    _inputs: Vec<wgpu::Buffer>,
    out_stride: u64,
    uni_align: u64,
    batch: u32,
    timestamps: Option<(wgpu::QuerySet, wgpu::Buffer, wgpu::Buffer)>,
}

/// Outputs of a set of chunks, each a byte slice of exactly `chunk_bytes`.
///
/// Callers may tamper with slices through [`ChunkOutputs::chunk_mut`] (e.g. to simulate a
/// cheating provider); the executor never reads them back.
#[derive(Clone, Debug, PartialEq)]
pub struct ChunkOutputs {
    indices: Vec<u32>,
    chunk_bytes: usize,
    data: Vec<u8>,
    /// Sum of GPU timestamp intervals over all batches (None without timestamp support).
    pub gpu_time: Option<Duration>,
    /// Wall time from first submit to last readback.
    pub wall_time: Duration,
}

impl ChunkOutputs {
    /// Builds outputs from raw parts (e.g. received from a provider). `data` must hold
    /// `indices.len() * chunk_bytes` bytes.
    pub fn from_parts(indices: Vec<u32>, chunk_bytes: usize, data: Vec<u8>) -> Option<Self> {
        (chunk_bytes > 0 && data.len() == indices.len().checked_mul(chunk_bytes)?).then_some(Self {
            indices,
            chunk_bytes,
            data,
            gpu_time: None,
            wall_time: Duration::ZERO,
        })
    }
    /// Chunk indices, in the order they were requested.
    pub fn indices(&self) -> &[u32] {
        &self.indices
    }
    /// Bytes per chunk.
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_bytes
    }
    /// Number of chunks held.
    pub fn len(&self) -> usize {
        self.indices.len()
    }
    /// True when no chunk is held.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    /// Output of the `pos`-th held chunk.
    pub fn slot(&self, pos: usize) -> &[u8] {
        &self.data[pos * self.chunk_bytes..(pos + 1) * self.chunk_bytes]
    }
    /// Output of chunk `index`, if held.
    pub fn chunk(&self, index: u32) -> Option<&[u8]> {
        self.indices
            .iter()
            .position(|&i| i == index)
            .map(|p| self.slot(p))
    }
    /// Mutable output of chunk `index`, if held.
    pub fn chunk_mut(&mut self, index: u32) -> Option<&mut [u8]> {
        let p = self.indices.iter().position(|&i| i == index)?;
        Some(&mut self.data[p * self.chunk_bytes..(p + 1) * self.chunk_bytes])
    }
    /// `(index, output)` pairs in held order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        self.indices
            .iter()
            .copied()
            .zip(self.data.chunks_exact(self.chunk_bytes))
    }
    /// All held outputs concatenated in held order. For a full run (indices `0..n`) this
    /// is the job's output.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }
    /// Consumes into the concatenated bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }
    /// Whether this holds exactly chunks `0..n` in order.
    pub fn is_complete(&self, n: u32) -> bool {
        self.indices.len() == n as usize
            && self.indices.iter().enumerate().all(|(p, &i)| p as u32 == i)
    }
}

impl PreparedJob<'_> {
    /// Number of chunks in the job.
    pub fn n_chunks(&self) -> u32 {
        self.n_chunks
    }
    /// Bytes per chunk output.
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_bytes
    }
    /// Chunks per submitted batch.
    pub fn batch_chunks(&self) -> u32 {
        self.batch
    }

    /// Runs every chunk (the provider's job).
    pub fn run_all(&self) -> Result<ChunkOutputs, GpuError> {
        let all: Vec<u32> = (0..self.n_chunks).collect();
        self.run(Pass::Output, &all)
    }

    /// Runs only `indices` (any order, repeats allowed), e.g. the verifier's sample.
    pub fn run_chunks(&self, indices: &[u32]) -> Result<ChunkOutputs, GpuError> {
        self.run(Pass::Output, indices)
    }

    /// Runs `pass` on `indices`. [`Pass::Scale`] on a job without a scale entry point
    /// returns all-zero scales.
    pub fn run(&self, pass: Pass, indices: &[u32]) -> Result<ChunkOutputs, GpuError> {
        if indices.is_empty() {
            return Err(GpuError::NoChunksRequested);
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.n_chunks) {
            return Err(GpuError::ChunkOutOfRange {
                index: bad,
                chunks: self.n_chunks,
            });
        }
        let dispatches = match pass {
            Pass::Output => &self.output_pass,
            Pass::Scale => match &self.scale_pass {
                Some(p) => p,
                None => {
                    return Ok(ChunkOutputs {
                        indices: indices.to_vec(),
                        chunk_bytes: self.chunk_bytes,
                        data: vec![0; indices.len() * self.chunk_bytes],
                        gpu_time: None,
                        wall_time: Duration::ZERO,
                    })
                }
            },
        };
        let gpu = self.gpu;
        let start = Instant::now();
        let mut data = Vec::with_capacity(indices.len() * self.chunk_bytes);
        let mut gpu_ns = 0f64;
        let period = f64::from(gpu.queue.get_timestamp_period());
        for batch in indices.chunks(self.batch as usize) {
            let mut uni = vec![0u8; self.uni_align as usize * batch.len()];
            for (slot, &idx) in batch.iter().enumerate() {
                let o = slot * self.uni_align as usize;
                uni[o..o + 4].copy_from_slice(&idx.to_le_bytes());
                uni[o + 4..o + 8].copy_from_slice(&self.n_chunks.to_le_bytes());
            }
            gpu.queue.write_buffer(&self.uniforms, 0, &uni);
            let used = self.out_stride * batch.len() as u64;
            let mut enc = gpu
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("batch"),
                });
            // Cleared so a kernel that skips an element yields zeros, never stale data, and
            // every chunk's scratch starts at zero whatever ran before it.
            enc.clear_buffer(&self.out_buf, 0, Some(used));
            for s in &self.scratch {
                enc.clear_buffer(&s.buffer, 0, Some(s.stride * batch.len() as u64));
            }
            {
                let mut cpass = enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("chunks"),
                    timestamp_writes: self.timestamps.as_ref().map(|(set, _, _)| {
                        wgpu::ComputePassTimestampWrites {
                            query_set: set,
                            beginning_of_pass_write_index: Some(0),
                            end_of_pass_write_index: Some(1),
                        }
                    }),
                });
                for slot in 0..batch.len() as u64 {
                    let mut offsets = vec![
                        (slot * self.uni_align) as u32,
                        (slot * self.out_stride) as u32,
                    ];
                    offsets.extend(self.scratch.iter().map(|s| (slot * s.stride) as u32));
                    cpass.set_bind_group(0, &self.bind_group, &offsets);
                    // wgpu orders the dispatches of a pass: each sees the writes before it.
                    for (pipeline, [x, y, z]) in dispatches {
                        cpass.set_pipeline(pipeline);
                        cpass.dispatch_workgroups(*x, *y, *z);
                    }
                }
            }
            enc.copy_buffer_to_buffer(&self.out_buf, 0, &self.readback, 0, Some(used));
            if let Some((set, resolve, read)) = &self.timestamps {
                enc.resolve_query_set(set, 0..2, resolve, 0);
                enc.copy_buffer_to_buffer(resolve, 0, read, 0, Some(16));
            }
            let sub = gpu.queue.submit([enc.finish()]);
            self.readback
                .slice(0..used)
                .map_async(wgpu::MapMode::Read, |_| {});
            if let Some((_, _, read)) = &self.timestamps {
                read.slice(..).map_async(wgpu::MapMode::Read, |_| {});
            }
            match gpu.device.poll(wgpu::PollType::Wait {
                submission_index: Some(sub),
                timeout: Some(gpu.options.watchdog),
            }) {
                Ok(_) => {}
                Err(wgpu::PollError::Timeout) => {
                    tracing::error!(budget = ?gpu.options.watchdog, "GPU watchdog fired");
                    return Err(GpuError::Watchdog {
                        budget: gpu.options.watchdog,
                    });
                }
                Err(e) => return Err(GpuError::Readback(e.to_string())),
            }
            // Mapping callbacks run during poll; make sure both maps completed.
            let _ = gpu.device.poll(wgpu::PollType::Poll);
            {
                let view = self
                    .readback
                    .slice(0..used)
                    .get_mapped_range()
                    .map_err(|e| GpuError::Readback(e.to_string()))?;
                for slot in 0..batch.len() {
                    let o = slot * self.out_stride as usize;
                    data.extend_from_slice(&view[o..o + self.chunk_bytes]);
                }
            }
            self.readback.unmap();
            if let Some((_, _, read)) = &self.timestamps {
                {
                    let view = read
                        .slice(..)
                        .get_mapped_range()
                        .map_err(|e| GpuError::Readback(e.to_string()))?;
                    let t0 = u64::from_le_bytes(view[0..8].try_into().expect("8 bytes"));
                    let t1 = u64::from_le_bytes(view[8..16].try_into().expect("8 bytes"));
                    gpu_ns += t1.saturating_sub(t0) as f64 * period;
                }
                read.unmap();
            }
        }
        let wall_time = start.elapsed();
        let gpu_time = self
            .timestamps
            .as_ref()
            .map(|_| Duration::from_nanos(gpu_ns as u64));
        tracing::debug!(
            chunks = indices.len(),
            ?pass,
            wall_ms = wall_time.as_secs_f64() * 1e3,
            ?gpu_time,
            "chunks executed"
        );
        Ok(ChunkOutputs {
            indices: indices.to_vec(),
            chunk_bytes: self.chunk_bytes,
            data,
            gpu_time,
            wall_time,
        })
    }
}
