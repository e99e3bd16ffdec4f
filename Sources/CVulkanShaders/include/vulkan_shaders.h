#ifndef LLMPERF_VULKAN_SHADERS_H
#define LLMPERF_VULKAN_SHADERS_H

#include <stddef.h>
#include <stdint.h>

/// One compiled compute shader: its SPIR-V words (`size` bytes).
struct llmperf_shader {
    const char *name;
    const uint32_t *code;
    size_t size;
};

/// The Vulkan engine's shader called `name` (glsl/, compiled by scripts/compile-shaders into shaders.c), or NULL.
const struct llmperf_shader *llmperf_shader_named(const char *name);

#endif
