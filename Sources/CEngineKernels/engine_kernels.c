// The packed Q4, Q8_0 and F16 matrix kernels in C, because they need one instruction Swift's SIMD types cannot ask for: a
// two-table permute (`vpermt2ps`, AVX-512VL) that turns each 4-bit quant into its float in one step, where the
// Swift kernel (PackedKernels.multiply4) spends four (shift, mask, or, float subtract). The decode
// profile (`llmperf bench-engine --profile`) put 66% of a step in the Q4_1 products and showed them bound by
// instruction count, not memory. Same layout, same values per weight; only the sums' order differs.
#include "engine_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

int llmperf_packed_kernels_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("f16c") ? 1 : 0;
}

#define KERNEL __attribute__((target("avx2,fma,f16c,avx512f,avx512vl")))

static inline KERNEL void store_rows(__m256 v, float *out, long row, long rows) {
    if (row + 8 <= rows) {
        _mm256_storeu_ps(out + row, v);
    } else {
        float lanes[8];
        _mm256_storeu_ps(lanes, v);
        for (long l = 0; l < rows - row; l++) out[row + l] = lanes[l];
    }
}

// Each kernel below takes `n` input rows (1, 2 or 4, a constant at each call site in `llmperf_packed_multiply`,
// so the loops unroll), starting at input row `first`, against the product's row groups. Every input row goes
// through the same operations in the same order whatever `n` is, so a row's products do not depend on how many
// rows were batched with it (batched decode equals decoding alone, bit for bit).
#define PRODUCT_FIELDS(p, first)                                                                                  \
    const uint8_t *data = p->data;                                                                                \
    const long blocks = p->blocks_per_row, gbb = p->group_block_bytes, rows = p->rows, columns = p->columns;     \
    const long g0 = p->group_start, g1 = p->group_end, stride = p->output_stride;                                 \
    const float *x = p->input + first * columns;                                                                  \
    float *out = p->output + first * stride;

static inline __attribute__((always_inline)) KERNEL void q4_rows(
    const struct llmperf_packed_product *p, long first, const int n) {
    PRODUCT_FIELDS(p, first)
    const long quants = p->quant_offset;
    const int offsets = p->has_offsets;
    const float *sums = p->block_sums + first * blocks;
    // A nibble q is the quant as stored: Q4_1's value is d q + m, Q4_0's d (q - 8). The permute's index is q (its
    // low three bits pick a lane, the fourth the table), so the tables hold q, or q - 8, for q = 0…15.
    const __m256 low = offsets ? _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7) : _mm256_setr_ps(-8, -7, -6, -5, -4, -3, -2, -1);
    const __m256 high = offsets ? _mm256_setr_ps(8, 9, 10, 11, 12, 13, 14, 15) : _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
    for (long g = g0; g < g1; g++) {
        __m256 acc[4];
        for (int i = 0; i < n; i++) acc[i] = _mm256_setzero_ps();
        const uint8_t *block = data + g * blocks * gbb;
        for (long b = 0; b < blocks; b++, block += gbb) {
            // Four partial sums per input (word parity × nibble parity) keep four FMA chains in flight.
            __m256 s[4][4];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < 4; c++) s[i][c] = _mm256_setzero_ps();
            const float *xb = x + b * 32;
            for (int k = 0; k < 4; k++) {
                const __m256i w = _mm256_loadu_si256((const __m256i *)(block + quants + 32 * k));
                for (int j = 0; j < 8; j++) {
                    // Lane r: nibble j of word k of row r, the value at column 4k + j/2 (+16 for a high nibble).
                    const __m256 q = _mm256_permutex2var_ps(low, _mm256_srli_epi32(w, 4 * j), high);
                    const long e = 4 * k + j / 2 + 16 * (j % 2);
                    const int c = 2 * (k % 2) + j % 2;
                    for (int i = 0; i < n; i++)
                        s[i][c] = _mm256_fmadd_ps(q, _mm256_broadcast_ss(xb + i * columns + e), s[i][c]);
                }
            }
            // The f16 scales (and Q4_1's minimums) of the eight rows.
            const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block));
            const __m256 m = offsets ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(block + 16))) : _mm256_setzero_ps();
            for (int i = 0; i < n; i++) {
                const __m256 dot = _mm256_add_ps(_mm256_add_ps(s[i][0], s[i][1]), _mm256_add_ps(s[i][2], s[i][3]));
                const __m256 offset = _mm256_mul_ps(m, _mm256_set1_ps(sums[i * blocks + b]));
                acc[i] = _mm256_add_ps(acc[i], _mm256_fmadd_ps(dot, d, offset));
            }
        }
        for (int i = 0; i < n; i++) store_rows(acc[i], out + i * stride, g * 8, rows);
    }
}

// Q8_0: word k of a row group holds bytes 4k…4k+3 of each of its 8 rows. Byte j sign-extends with two shifts
// (one for the top byte) and converts in one instruction, against four integer and float steps in Swift.
static inline __attribute__((always_inline)) KERNEL void q8_rows(
    const struct llmperf_packed_product *p, long first, const int n) {
    PRODUCT_FIELDS(p, first)
    const long quants = p->quant_offset;
    for (long g = g0; g < g1; g++) {
        __m256 acc[4];
        for (int i = 0; i < n; i++) acc[i] = _mm256_setzero_ps();
        const uint8_t *block = data + g * blocks * gbb;
        for (long b = 0; b < blocks; b++, block += gbb) {
            __m256 s[4][4];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < 4; c++) s[i][c] = _mm256_setzero_ps();
            const float *xb = x + b * 32;
            for (int k = 0; k < 8; k++) {
                const __m256i w = _mm256_loadu_si256((const __m256i *)(block + quants + 32 * k));
                for (int j = 0; j < 4; j++) {
                    const __m256i v = j == 3 ? _mm256_srai_epi32(w, 24)
                                             : _mm256_srai_epi32(_mm256_slli_epi32(w, 24 - 8 * j), 24);
                    const __m256 q = _mm256_cvtepi32_ps(v);
                    const int c = 2 * (k % 2) + j % 2;
                    for (int i = 0; i < n; i++)
                        s[i][c] = _mm256_fmadd_ps(q, _mm256_broadcast_ss(xb + i * columns + 4 * k + j), s[i][c]);
                }
            }
            const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)block));
            for (int i = 0; i < n; i++) {
                const __m256 dot = _mm256_add_ps(_mm256_add_ps(s[i][0], s[i][1]), _mm256_add_ps(s[i][2], s[i][3]));
                acc[i] = _mm256_fmadd_ps(dot, d, acc[i]);
            }
        }
        for (int i = 0; i < n; i++) store_rows(acc[i], out + i * stride, g * 8, rows);
    }
}

// F16: word k of a row group holds columns 2k (low half) and 2k + 1 (high half) of each of its 8 rows. The
// halves are gathered by one byte shuffle and one 64-bit permute and widened to floats (vcvtph2ps), where the
// Swift kernel converts them with integer and float arithmetic. (Narrowing with vpmovdw instead made a decode
// step 10% slower than the Swift kernel on this AMD core.)
static inline __attribute__((always_inline)) KERNEL void f16_rows(
    const struct llmperf_packed_product *p, long first, const int n) {
    PRODUCT_FIELDS(p, first)
    const __m256i halves = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                            0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    for (long g = g0; g < g1; g++) {
        __m256 acc[4];
        for (int i = 0; i < n; i++) acc[i] = _mm256_setzero_ps();
        const uint8_t *block = data + g * blocks * gbb;
        for (long b = 0; b < blocks; b++, block += gbb) {
            __m256 s[4][4];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < 4; c++) s[i][c] = _mm256_setzero_ps();
            const float *xb = x + b * 32;
            for (int k = 0; k < 16; k++) {
                const __m256i w = _mm256_loadu_si256((const __m256i *)(block + 32 * k));
                // Each 128-bit lane to [its four low halves | its four high halves], then the four 64-bit
                // pieces to [lows of lane 0, lows of lane 1, highs of lane 0, highs of lane 1].
                const __m256i split = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(w, halves), 0xD8);
                const __m256 low = _mm256_cvtph_ps(_mm256_castsi256_si128(split));
                const __m256 high = _mm256_cvtph_ps(_mm256_extracti128_si256(split, 1));
                const int c = 2 * (k % 2);
                for (int i = 0; i < n; i++) {
                    s[i][c] = _mm256_fmadd_ps(low, _mm256_broadcast_ss(xb + i * columns + 2 * k), s[i][c]);
                    s[i][c + 1] = _mm256_fmadd_ps(high, _mm256_broadcast_ss(xb + i * columns + 2 * k + 1), s[i][c + 1]);
                }
            }
            for (int i = 0; i < n; i++)
                acc[i] = _mm256_add_ps(acc[i], _mm256_add_ps(_mm256_add_ps(s[i][0], s[i][1]), _mm256_add_ps(s[i][2], s[i][3])));
        }
        for (int i = 0; i < n; i++) store_rows(acc[i], out + i * stride, g * 8, rows);
    }
}

// Input rows four, then two, then one at a time.
KERNEL void llmperf_packed_multiply(const struct llmperf_packed_product *p, long count) {
    for (long i = 0; i < count;) {
        const int n = count - i >= 4 ? 4 : count - i >= 2 ? 2 : 1;
        switch (p->format * 8 + n) {
        case LLMPERF_PACKED_Q4 * 8 + 4: q4_rows(p, i, 4); break;
        case LLMPERF_PACKED_Q4 * 8 + 2: q4_rows(p, i, 2); break;
        case LLMPERF_PACKED_Q4 * 8 + 1: q4_rows(p, i, 1); break;
        case LLMPERF_PACKED_Q8 * 8 + 4: q8_rows(p, i, 4); break;
        case LLMPERF_PACKED_Q8 * 8 + 2: q8_rows(p, i, 2); break;
        case LLMPERF_PACKED_Q8 * 8 + 1: q8_rows(p, i, 1); break;
        case LLMPERF_PACKED_F16 * 8 + 4: f16_rows(p, i, 4); break;
        case LLMPERF_PACKED_F16 * 8 + 2: f16_rows(p, i, 2); break;
        default: f16_rows(p, i, 1); break;
        }
        i += n;
    }
}

#else

int llmperf_packed_kernels_available(void) { return 0; }

void llmperf_packed_multiply(const struct llmperf_packed_product *product, long count) {
    (void)product;
    (void)count;
    __builtin_trap();  // never called: llmperf_packed_kernels_available() is 0 here
}

#endif
