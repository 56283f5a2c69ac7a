// The two libFuzzer entry points the addon uses (upstream compiler-rt/lib/fuzzer/FuzzerDefs.h).
#pragma once
#include <cstddef>
#include <cstdint>
namespace fuzzer {
typedef int (*UserCallback)(const uint8_t *Data, size_t Size);
int FuzzerDriver(int *argc, char ***argv, UserCallback Callback);
}
