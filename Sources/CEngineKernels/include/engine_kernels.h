#ifndef LLMPERF_ENGINE_KERNELS_H
#define LLMPERF_ENGINE_KERNELS_H

#include <stdint.h>

/// 1 when this CPU has AVX-512F, AVX-512VL and F16C, which `llmperf_packed_multiply` needs; 0 otherwise (the
/// Swift kernels then run).
int llmperf_packed_kernels_available(void);

enum { LLMPERF_PACKED_Q4 = 0, LLMPERF_PACKED_Q8 = 1, LLMPERF_PACKED_F16 = 2 };

/// A product of a packed matrix (InferenceEngine's `PackedMatrix` layout, 8 rows to a row group) with input rows,
/// for row groups `group_start..<group_end`: `output[i * output_stride + r] = dot(row r, input + i * columns)`.
struct llmperf_packed_product {
    /// LLMPERF_PACKED_Q4 (Q4_0, or Q4_1 with `has_offsets`), LLMPERF_PACKED_Q8 (Q8_0) or LLMPERF_PACKED_F16.
    int format;
    const uint8_t *data;
    long blocks_per_row;
    long group_block_bytes;
    /// Where a block's quants start (after its scales, and Q4_1's minimums).
    long quant_offset;
    int has_offsets;
    long rows;
    long group_start;
    long group_end;
    const float *input;
    long columns;
    /// Q4: `block_sums[i * blocks_per_row + b]` is the sum of block `b` of input row `i`.
    const float *block_sums;
    float *output;
    long output_stride;
};

/// The product for `count` input rows.
void llmperf_packed_multiply(const struct llmperf_packed_product *product, long count);

#endif
