#version 450
// output[i][j] = silu(gate[i][j]) * up[i][j]; gate and up are the two halves of each input row (the fused
// gate and up product), output rows are `width` wide.
#include "common.glsl"

layout(std430, set = 0, binding = 0) readonly buffer Input { float inputs[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float outputs[]; };

layout(push_constant) uniform Parameters {
    uint width;
    uint rows;
    uint upOffset;       // floats from a row's gate to its up values
    uint inputStride;    // floats between input rows
} p;

void main() {
    uint index = gl_GlobalInvocationID.y * (gl_NumWorkGroups.x * WORKGROUP) + gl_GlobalInvocationID.x;
    if (index >= p.rows * p.width) return;
    uint row = index / p.width;
    uint j = index % p.width;
    float g = inputs[row * p.inputStride + j];
    float u = inputs[row * p.inputStride + p.upOffset + j];
    outputs[index] = g / (1.0 + exp(-g)) * u;
}
