#version 450
// Causal grouped-query attention, one workgroup per (query row, head): the row at position P attends to its
// sequence's cached positions 0...P. Rows of several sequences run in one dispatch; each row names its
// sequence's cache region (`rowInfo`: first float of the region in `keys`/`values`, and the row's position).
// Positions go 64 at a time: a thread scores one position, then the tile's softmax weights rescale the running
// sum (online softmax), and each thread accumulates the weighted values of its own dimensions.
#include "common.glsl"

#define MAX_HEAD_DIMENSION 256

layout(std430, set = 0, binding = 0) readonly buffer Query { float query[]; };
layout(std430, set = 0, binding = 1) readonly buffer Keys { float keys[]; };
layout(std430, set = 0, binding = 2) readonly buffer Values { float values[]; };
layout(std430, set = 0, binding = 3) readonly buffer Rows { uvec2 rowInfo[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Output { float outputs[]; };

layout(push_constant) uniform Parameters {
    uint rows;
    uint heads;
    uint kvHeads;
    uint headDimension;
    uint queryStride;    // floats between query rows
    uint queryOffset;    // first float of row 0's queries
    uint cacheWidth;     // floats per cached position (kvDimension)
    uint outputStride;   // floats between output rows
    float scale;         // 1 / sqrt(headDimension)
    uint firstRow;       // this dispatch's first row (rows firstRow ..< firstRow + rows)
} p;

shared float q[MAX_HEAD_DIMENSION];
shared float weights[WORKGROUP];

void main() {
    uint group = workgroupIndex();
    if (group >= p.rows * p.heads) return;
    uint head = group % p.heads;
    uint row = p.firstRow + group / p.heads;
    uint thread = gl_LocalInvocationID.x;
    uint hd = p.headDimension;
    uint kvHead = head / (p.heads / p.kvHeads);
    uvec2 info = rowInfo[row];
    uint base = info.x + kvHead * hd;
    uint positions = info.y + 1u;

    for (uint d = thread; d < hd; d += WORKGROUP) q[d] = query[p.queryOffset + row * p.queryStride + head * hd + d];
    barrier();

    float runningMax = -1.0 / 0.0;
    float runningSum = 0.0;
    float acc[MAX_HEAD_DIMENSION / WORKGROUP];
    for (uint k = 0; k < MAX_HEAD_DIMENSION / WORKGROUP; k++) acc[k] = 0.0;

    for (uint first = 0; first < positions; first += WORKGROUP) {
        uint t = first + thread;
        float score = -1.0 / 0.0;
        if (t < positions) {
            uint at = base + t * p.cacheWidth;
            float s = 0.0;
            for (uint d = 0; d < hd; d++) s += q[d] * keys[at + d];
            score = s * p.scale;
        }
        float tileMax = workgroupMax(score);
        float newMax = max(runningMax, tileMax);
        float rescale = exp(runningMax - newMax);
        float w = t < positions ? exp(score - newMax) : 0.0;
        weights[thread] = w;
        runningSum = runningSum * rescale + workgroupSum(w);
        runningMax = newMax;
        // workgroupSum's barriers make every thread's weight visible.
        uint tileCount = min(uint(WORKGROUP), positions - first);
        for (uint k = 0; k * WORKGROUP + thread < hd; k++) {
            uint d = k * WORKGROUP + thread;
            float sum = acc[k] * rescale;
            for (uint j = 0; j < tileCount; j++) sum += weights[j] * values[base + (first + j) * p.cacheWidth + d];
            acc[k] = sum;
        }
        barrier();
    }
    for (uint k = 0; k * WORKGROUP + thread < hd; k++) {
        uint d = k * WORKGROUP + thread;
        outputs[row * p.outputStride + head * hd + d] = acc[k] / runningSum;
    }
}
