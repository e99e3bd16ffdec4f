#version 450
// Rotary position embedding, adjacent-pair form, one thread per (row, head, pair). The angles' cosines and
// sines come from the host (`table[row][pair]`, computed in double precision as the CPU engine does).
// Queries rotate in place. With `storeKeys`, the rows are keys: each rotated key and its value go into the
// sequence's cache at the row's position instead (rows of `data` are then left as they were).
#include "common.glsl"

layout(std430, set = 0, binding = 0) buffer Data { float data[]; };
layout(std430, set = 0, binding = 1) readonly buffer Table { vec2 table[]; };
layout(std430, set = 0, binding = 2) readonly buffer Rows { uvec2 rowInfo[]; };  // (cache base, position)
layout(std430, set = 0, binding = 3) writeonly buffer Keys { float keys[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Values { float values[]; };

layout(push_constant) uniform Parameters {
    uint rows;
    uint heads;
    uint headDimension;
    uint ropePairs;      // pairs that rotate per head (ropeDimension / 2)
    uint rowStride;      // floats between rows of `data`
    uint dataOffset;     // first float of row 0's first head in `data`
    uint storeKeys;
    uint valueOffset;    // with storeKeys: first float of row 0's values in `data`
    uint cacheWidth;     // with storeKeys: floats per cached position (kvDimension)
    uint firstRow;       // this dispatch's first row (rows firstRow ..< firstRow + rows)
} p;

void main() {
    uint halfHead = p.headDimension / 2u;
    uint index = gl_GlobalInvocationID.y * (gl_NumWorkGroups.x * WORKGROUP) + gl_GlobalInvocationID.x;
    if (index >= p.rows * p.heads * halfHead) return;
    uint pair = index % halfHead;
    uint head = (index / halfHead) % p.heads;
    uint row = p.firstRow + index / (halfHead * p.heads);
    uint at = p.dataOffset + row * p.rowStride + head * p.headDimension + 2u * pair;
    float a = data[at];
    float b = data[at + 1u];
    if (pair < p.ropePairs) {
        vec2 cs = table[row * p.ropePairs + pair];
        float ra = a * cs.x - b * cs.y;
        float rb = a * cs.y + b * cs.x;
        a = ra;
        b = rb;
    }
    if (p.storeKeys == 0u) {
        data[at] = a;
        data[at + 1u] = b;
        return;
    }
    uvec2 info = rowInfo[row];
    uint slot = info.x + info.y * p.cacheWidth + head * p.headDimension + 2u * pair;
    keys[slot] = a;
    keys[slot + 1u] = b;
    uint v = p.valueOffset + row * p.rowStride + head * p.headDimension + 2u * pair;
    values[slot] = data[v];
    values[slot + 1u] = data[v + 1u];
}
