#version 450
// Rotary position embedding, adjacent-pair form, one thread per (row, head, pair) over the query heads and then the
// key heads of each row. The angles' cosines and sines come from the host (`table[row][pair]`, computed in double
// precision as the CPU engine does). Queries rotate in place; each rotated key, and its value, go into the
// sequence's cache at the row's position.
#include "common.glsl"

layout(std430, set = 0, binding = 0) buffer Data { float data[]; };
layout(std430, set = 0, binding = 1) readonly buffer Table { vec2 table[]; };
layout(std430, set = 0, binding = 2) readonly buffer Rows { uvec2 rowInfo[]; };  // (cache base, position)
layout(std430, set = 0, binding = 3) writeonly buffer Keys { float keys[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Values { float values[]; };

layout(push_constant) uniform Parameters {
    uint rows;
    uint heads;          // query heads rotated (0: none)
    uint kvHeads;        // key heads rotated and stored (0: none)
    uint headDimension;
    uint ropePairs;      // pairs that rotate per head (ropeDimension / 2)
    uint rowStride;      // floats between rows of `data`
    uint keyOffset;      // first float of a row's keys in `data` (its queries start at 0)
    uint valueOffset;    // first float of a row's values in `data`
    uint cacheWidth;     // floats per cached position (kvDimension)
    uint firstRow;       // this dispatch's first row (rows firstRow ..< firstRow + rows)
} p;

void main() {
    uint halfHead = p.headDimension / 2u;
    uint perRow = (p.heads + p.kvHeads) * halfHead;
    uint index = gl_GlobalInvocationID.y * (gl_NumWorkGroups.x * WORKGROUP) + gl_GlobalInvocationID.x;
    if (index >= p.rows * perRow) return;
    uint row = p.firstRow + index / perRow;
    uint pair = index % halfHead;
    uint head = (index % perRow) / halfHead;
    bool isKey = head >= p.heads;
    if (isKey) head -= p.heads;
    uint at = row * p.rowStride + (isKey ? p.keyOffset : 0u) + head * p.headDimension + 2u * pair;
    float a = data[at];
    float b = data[at + 1u];
    if (pair < p.ropePairs) {
        vec2 cs = table[row * p.ropePairs + pair];
        float ra = a * cs.x - b * cs.y;
        float rb = a * cs.y + b * cs.x;
        a = ra;
        b = rb;
    }
    if (!isKey) {
        data[at] = a;
        data[at + 1u] = b;
        return;
    }
    uvec2 info = rowInfo[row];
    uint slot = info.x + info.y * p.cacheWidth + head * p.headDimension + 2u * pair;
    keys[slot] = a;
    keys[slot + 1u] = b;
    uint v = row * p.rowStride + p.valueOffset + head * p.headDimension + 2u * pair;
    values[slot] = data[v];
    values[slot + 1u] = data[v + 1u];
}
