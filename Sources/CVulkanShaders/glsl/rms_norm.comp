#version 450
// Root-mean-square normalisation of one row per workgroup: output = x / sqrt(mean(x^2) + epsilon) * weight.
// With `addFirst`, the residual is added first and kept: hidden += addend, then hidden is normalised.
#include "common.glsl"

layout(std430, set = 0, binding = 0) buffer Hidden { float hidden[]; };
layout(std430, set = 0, binding = 1) readonly buffer Addend { float addend[]; };
layout(std430, set = 0, binding = 2) readonly buffer Weight { float weight[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Output { float outputs[]; };

layout(push_constant) uniform Parameters {
    uint width;
    uint rows;
    float epsilon;
    uint addFirst;
} p;

void main() {
    uint row = workgroupIndex();
    if (row >= p.rows) return;
    uint base = row * p.width;
    float squares = 0.0;
    for (uint j = gl_LocalInvocationID.x; j < p.width; j += WORKGROUP) {
        float x = hidden[base + j];
        if (p.addFirst != 0u) {
            x += addend[base + j];
            hidden[base + j] = x;
        }
        squares += x * x;
    }
    float scale = 1.0 / sqrt(workgroupSum(squares) / float(p.width) + p.epsilon);
    for (uint j = gl_LocalInvocationID.x; j < p.width; j += WORKGROUP) {
        outputs[base + j] = hidden[base + j] * scale * weight[j];
    }
}
