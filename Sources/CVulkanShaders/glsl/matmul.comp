#version 450
// output[i][r] = dot(weight row r, x_i) for `count` input rows, one weight row per subgroup (`rowsPerGroup` rows a
// workgroup, each subgroup taking them in turn, so any subgroup size works and no barrier is needed), where x_i is input row
// i, or with NORMALIZE its RMS norm scaled by `norm` (x / sqrt(mean(x^2) + epsilon) * norm, computed here from the
// raw row: the dot of the weights with x * norm, times the row's scale), or with GATED silu(gate) * up from a row
// holding both. With ACCUMULATE the product is added to the output (a residual connection).
// The weight format is chosen at compile time: F32, F16, Q8_0, Q4_0 or Q4_1. Rows are stored in llmperf's
// device layout (VulkanEngine's DeviceMatrix): `quants` holds each 32-weight block's values (Q8_0 8 uints
// of int8, Q4 4 uints of the file's nibbles: byte k holds weight k low and weight k+16 high, F16 16 uints
// of half pairs, F32 32 uints), `scales` each block's scale as a float (Q4_1: scale then minimum).
// Each lane takes eight weights at a time (a quarter of a block) and keeps eight input rows' sums.
#include "common.glsl"

#if defined(F32)
#define QUANT_UINTS 32
#define SCALES 0
#elif defined(F16)
#define QUANT_UINTS 16
#define SCALES 0
#elif defined(Q8_0)
#define QUANT_UINTS 8
#define SCALES 1
#elif defined(Q4_0)
#define QUANT_UINTS 4
#define SCALES 1
#elif defined(Q4_1)
#define QUANT_UINTS 4
#define SCALES 2
#endif

#define ROWS_AT_ONCE 8

layout(std430, set = 0, binding = 0) readonly buffer Quants { uint quants[]; };
layout(std430, set = 0, binding = 1) readonly buffer Scales { float scales[]; };
layout(std430, set = 0, binding = 2) readonly buffer Input { vec4 input4[]; };
layout(std430, set = 0, binding = 3) buffer Output { float outputs[]; };
layout(std430, set = 0, binding = 4) readonly buffer Norm { vec4 norm4[]; };

#define NORMALIZE 1u
#define GATED 2u
#define ACCUMULATE 4u

layout(push_constant) uniform Parameters {
    uint rows;          // weight rows in this dispatch
    uint columns;       // weights per row (a multiple of 32)
    uint count;         // input rows
    uint inputOffset;   // first input float (a multiple of 4)
    uint outputOffset;  // first output float
    uint outputStride;  // floats between output rows
    uint outputColumn;  // output column of this dispatch's first weight row
    uint inputStride;   // floats between input rows (a multiple of 4)
    uint mode;          // NORMALIZE, GATED, ACCUMULATE
    float epsilon;      // NORMALIZE: added to the mean square
    uint upOffset;      // GATED: floats from a row's gate values to its up values (a multiple of 4)
    uint rowsPerGroup;  // weight rows a workgroup computes
} p;

vec4 silu(vec4 g) { return g / (1.0 + exp(-g)); }

// The eight weights of octet `u` (block u/4, quarter u%4) of the row whose first block is `block0`.
void weights8(uint block0, uint u, out vec4 lo, out vec4 hi) {
    uint b = block0 + (u >> 2);
    uint quarter = u & 3u;
    uint q = b * QUANT_UINTS;
#if defined(F32)
    q += quarter * 8u;
    lo = vec4(uintBitsToFloat(quants[q]), uintBitsToFloat(quants[q + 1]), uintBitsToFloat(quants[q + 2]),
        uintBitsToFloat(quants[q + 3]));
    hi = vec4(uintBitsToFloat(quants[q + 4]), uintBitsToFloat(quants[q + 5]), uintBitsToFloat(quants[q + 6]),
        uintBitsToFloat(quants[q + 7]));
#elif defined(F16)
    q += quarter * 4u;
    lo = vec4(unpackHalf2x16(quants[q]), unpackHalf2x16(quants[q + 1]));
    hi = vec4(unpackHalf2x16(quants[q + 2]), unpackHalf2x16(quants[q + 3]));
#elif defined(Q8_0)
    float d = scales[b];
    uint a = quants[q + quarter * 2u];
    uint c = quants[q + quarter * 2u + 1u];
    lo = d * vec4(bitfieldExtract(int(a), 0, 8), bitfieldExtract(int(a), 8, 8), bitfieldExtract(int(a), 16, 8),
        bitfieldExtract(int(a), 24, 8));
    hi = d * vec4(bitfieldExtract(int(c), 0, 8), bitfieldExtract(int(c), 8, 8), bitfieldExtract(int(c), 16, 8),
        bitfieldExtract(int(c), 24, 8));
#else
    // Weights 0-15 are the low nibbles of bytes 0-15, weights 16-31 the high nibbles.
    uint shift = quarter >= 2u ? 4u : 0u;
    uint word = (quarter & 1u) * 2u;
    uint a = quants[q + word] >> shift;
    uint c = quants[q + word + 1u] >> shift;
    vec4 na = vec4(a & 15u, (a >> 8) & 15u, (a >> 16) & 15u, (a >> 24) & 15u);
    vec4 nc = vec4(c & 15u, (c >> 8) & 15u, (c >> 16) & 15u, (c >> 24) & 15u);
#if defined(Q4_0)
    float d = scales[b];
    lo = d * (na - 8.0);
    hi = d * (nc - 8.0);
#else
    float d = scales[2u * b];
    float m = scales[2u * b + 1u];
    lo = d * na + m;
    hi = d * nc + m;
#endif
#endif
}

// The dot products of one weight row with input rows first ..< first + n (n <= ROWS), written by the subgroup's
// elected lane. ROWS is a constant at each use, so the sums stay in registers; rows past `n` are skipped.
#define ROW_PRODUCTS(ROWS)                                                                                      \
    {                                                                                                           \
        float sums[ROWS];                                                                                       \
        float squares[ROWS];                                                                                    \
        for (uint i = 0; i < ROWS; i++) {                                                                       \
            sums[i] = 0.0;                                                                                      \
            squares[i] = 0.0;                                                                                   \
        }                                                                                                       \
        for (uint u = lane; u < octets; u += gl_SubgroupSize) {                                                 \
            vec4 lo;                                                                                            \
            vec4 hi;                                                                                            \
            weights8(block0, u, lo, hi);                                                                        \
            if (normalize) {                                                                                    \
                lo *= norm4[2u * u];                                                                            \
                hi *= norm4[2u * u + 1u];                                                                       \
            }                                                                                                   \
            for (uint i = 0; i < ROWS; i++) {                                                                   \
                if (i < n) {                                                                                    \
                    uint x = (p.inputOffset + (first + i) * p.inputStride) / 4u + 2u * u;                       \
                    vec4 a = input4[x];                                                                         \
                    vec4 b = input4[x + 1u];                                                                    \
                    if (gated) {                                                                                \
                        a = silu(a) * input4[x + p.upOffset / 4u];                                              \
                        b = silu(b) * input4[x + 1u + p.upOffset / 4u];                                         \
                    }                                                                                           \
                    if (normalize) squares[i] += dot(a, a) + dot(b, b);                                         \
                    sums[i] += dot(lo, a) + dot(hi, b);                                                         \
                }                                                                                               \
            }                                                                                                   \
        }                                                                                                       \
        for (uint i = 0; i < ROWS; i++) {                                                                       \
            if (i < n) {                                                                                        \
                float total = subgroupAdd(sums[i]);                                                             \
                if (normalize) total *= 1.0 / sqrt(subgroupAdd(squares[i]) / float(p.columns) + p.epsilon);     \
                uint at = p.outputOffset + (first + i) * p.outputStride + p.outputColumn + row;                 \
                if (subgroupElect()) outputs[at] = (p.mode & ACCUMULATE) != 0u ? outputs[at] + total : total;   \
            }                                                                                                   \
        }                                                                                                       \
    }

void main() {
    uint blocksPerRow = p.columns / 32u;
    uint octets = p.columns / 8u;
    uint lane = gl_SubgroupInvocationID;
    bool normalize = (p.mode & NORMALIZE) != 0u;
    bool gated = (p.mode & GATED) != 0u;
    for (uint k = gl_SubgroupID; k < p.rowsPerGroup; k += gl_NumSubgroups) {
        uint row = workgroupIndex() * p.rowsPerGroup + k;
        if (row >= p.rows) return;
        uint block0 = row * blocksPerRow;
        if (p.count == 1u) {
            // One input row (a decode step): nothing to skip.
            uint first = 0u;
            uint n = 1u;
            ROW_PRODUCTS(1)
        } else {
            for (uint first = 0; first < p.count; first += ROWS_AT_ONCE) {
                uint n = min(ROWS_AT_ONCE, p.count - first);
                ROW_PRODUCTS(ROWS_AT_ONCE)
            }
        }
    }
}
