// Shared by every llmperf compute shader: a 64-thread workgroup and a sum over it that works for any
// subgroup size (subgroup sums, then one value per subgroup through shared memory).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define WORKGROUP 64
layout(local_size_x = WORKGROUP, local_size_y = 1, local_size_z = 1) in;

shared float partials[WORKGROUP];

// The sum of `value` over the workgroup, returned to every thread. Every thread must call it.
float workgroupSum(float value) {
    float s = subgroupAdd(value);
    if (subgroupElect()) partials[gl_SubgroupID] = s;
    barrier();
    float total = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++) total += partials[i];
    barrier();
    return total;
}

// The maximum of `value` over the workgroup, returned to every thread. Every thread must call it.
float workgroupMax(float value) {
    float s = subgroupMax(value);
    if (subgroupElect()) partials[gl_SubgroupID] = s;
    barrier();
    float result = partials[0];
    for (uint i = 1; i < gl_NumSubgroups; i++) result = max(result, partials[i]);
    barrier();
    return result;
}

// A workgroup's index over a two-dimensional dispatch (more workgroups than one dimension allows).
uint workgroupIndex() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }
