#ifndef OCIRUN_CSECCOMP_SHIM_H
#define OCIRUN_CSECCOMP_SHIM_H
#include <seccomp.h>
#include <errno.h>
/* Function-like macros of libseccomp are not visible from Swift. */
static inline uint32_t ocirun_scmp_act_errno(uint16_t e) { return SCMP_ACT_ERRNO(e); }
static inline uint32_t ocirun_scmp_act_trace(uint16_t e) { return SCMP_ACT_TRACE(e); }
#endif
