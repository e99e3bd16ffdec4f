#ifndef LLMPERF_CVULKAN_SHIM_H
#define LLMPERF_CVULKAN_SHIM_H

// The Vulkan C API (libvulkan-dev's vulkan.h) without prototypes: llmperf loads the Vulkan loader
// (libvulkan.so.1) with dlopen at run time and every entry point through vkGetInstanceProcAddr and
// vkGetDeviceProcAddr, so the binary runs, on the CPU, where no Vulkan loader is installed, and says so
// when a Vulkan device is asked for.
#define VK_NO_PROTOTYPES 1
#include <vulkan/vulkan.h>
#include <dlfcn.h>

#endif
