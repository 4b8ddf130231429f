#ifndef OCIRUN_CLINUX_BPF_H
#define OCIRUN_CLINUX_BPF_H
/*
 * The few bpf(2) commands the cgroup2 device filter needs, over the kernel's UAPI header (no
 * libbpf). Each returns what bpf(2) returns: -1 with errno set on failure.
 */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BPF_PROG_LOAD of a BPF_PROG_TYPE_CGROUP_DEVICE program of `count` 8-byte instructions.
 * `log`/`log_size` receive the verifier's log when non-NULL. Returns the program fd. */
int ocirun_bpf_load_device_program(const void *insns, uint32_t count, const char *license,
                                   char *log, uint32_t log_size);
/* BPF_PROG_ATTACH as BPF_CGROUP_DEVICE with BPF_F_ALLOW_MULTI to the cgroup directory fd. */
int ocirun_bpf_attach_device_program(int prog_fd, int cgroup_fd);
/* BPF_PROG_DETACH of that program from the cgroup. */
int ocirun_bpf_detach_device_program(int prog_fd, int cgroup_fd);
/* BPF_PROG_QUERY: the ids of the device programs attached to this cgroup itself (not the
 * inherited ones). On input *count is the capacity of ids; on output the number attached. */
int ocirun_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t *count);
/* BPF_PROG_GET_FD_BY_ID. */
int ocirun_bpf_prog_fd_by_id(uint32_t id);
/* setxattr(2)/getxattr(2)/removexattr(2) on a path: the cgroup2 directory's record of the rules
 * its device program was compiled from (DeviceFilterV2). getxattr returns the value's size. */
int ocirun_setxattr(const char *path, const char *name, const void *value, size_t size);
long ocirun_getxattr(const char *path, const char *name, void *value, size_t size);
int ocirun_removexattr(const char *path, const char *name);

#ifdef __cplusplus
}
#endif
#endif
