#ifndef LLMPERF_ENGINE_KERNELS_H
#define LLMPERF_ENGINE_KERNELS_H

#include <stdint.h>

/// 1 when this CPU has AVX-512F, AVX-512VL and F16C, which the kernels below need; 0 otherwise (the
/// Swift kernels then run).
int llmperf_packed_kernels_available(void);

/// Products of a packed Q4_0/Q4_1 matrix (InferenceEngine's `PackedMatrix` layout, 8 rows to a row group) with
/// `count` input rows, for row groups `group_start..<group_end`:
/// `output[i * output_stride + r] = dot(row r, input + i * columns)`.
/// `block_sums[i * blocks_per_row + b]` is the sum of block `b` of input row `i`.
/// `quant_offset`: where a block's quants start (after its scales, and its offsets when `has_offsets`, Q4_1).
void llmperf_packed_q4_multiply(const uint8_t *data, long blocks_per_row, long group_block_bytes, long quant_offset,
                                int has_offsets, long rows, long group_start, long group_end, const float *input,
                                long columns, const float *block_sums, long count, float *output,
                                long output_stride);

/// The same for a packed Q8_0 matrix (no offsets, so no block sums).
void llmperf_packed_q8_multiply(const uint8_t *data, long blocks_per_row, long group_block_bytes, long quant_offset,
                                long rows, long group_start, long group_end, const float *input, long columns,
                                long count, float *output, long output_stride);

/// The same for a packed F16 matrix (no scales).
void llmperf_packed_f16_multiply(const uint8_t *data, long blocks_per_row, long group_block_bytes, long rows,
                                 long group_start, long group_end, const float *input, long columns, long count,
                                 float *output, long output_stride);

#endif
