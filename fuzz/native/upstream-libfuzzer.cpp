// Jazzer.js's libFuzzer fork traces comparisons and indirect calls at an explicit site id. Upstream libFuzzer
// (Debian's libclang-rt) takes the site from the caller's address; the values still reach its table of recent
// comparisons, which is what guides mutations, so the explicit id is dropped.
#include <cstdint>
extern "C" {
void __sanitizer_cov_trace_const_cmp8(uint64_t arg1, uint64_t arg2);
void __sanitizer_cov_trace_pc_indir(uintptr_t callee);
void __sanitizer_cov_trace_const_cmp8_with_pc(uintptr_t, uint64_t arg1, uint64_t arg2) {
  __sanitizer_cov_trace_const_cmp8(arg1, arg2);
}
void __sanitizer_cov_trace_pc_indir_with_pc(void *, uintptr_t callee) { __sanitizer_cov_trace_pc_indir(callee); }
}
