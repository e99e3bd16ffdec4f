#version 450
// output[j] = input[rowIndex[j]], whole rows of `width` floats: the rows whose logits a forward pass returns.
#include "common.glsl"

layout(std430, set = 0, binding = 0) readonly buffer Input { float inputs[]; };
layout(std430, set = 0, binding = 1) readonly buffer Rows { uint rowIndex[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float outputs[]; };

layout(push_constant) uniform Parameters {
    uint width;
    uint rows;
} p;

void main() {
    uint index = gl_GlobalInvocationID.y * (gl_NumWorkGroups.x * WORKGROUP) + gl_GlobalInvocationID.x;
    if (index >= p.rows * p.width) return;
    uint row = index / p.width;
    outputs[index] = inputs[rowIndex[row] * p.width + index % p.width];
}
