#define _GNU_SOURCE
#include "CLinuxBPF.h"
#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static int sys_bpf(int cmd, union bpf_attr *attr) {
#ifdef SYS_bpf
    return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
#else
    errno = ENOSYS;
    return -1;
#endif
}

int ocirun_bpf_load_device_program(const void *insns, uint32_t count, const char *license,
                                   char *log, uint32_t log_size) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = (uint64_t)(uintptr_t)insns;
    a.insn_cnt = count;
    a.license = (uint64_t)(uintptr_t)license;
    if (log != NULL && log_size > 0) {
        log[0] = 0;
        a.log_buf = (uint64_t)(uintptr_t)log;
        a.log_size = log_size;
        a.log_level = 1;
    }
    strncpy(a.prog_name, "ocirun_devices", sizeof(a.prog_name) - 1);
    int fd = sys_bpf(BPF_PROG_LOAD, &a);
    if (fd < 0 && errno == EINVAL) {
        /* Kernels before 4.15 take no program name. */
        memset(a.prog_name, 0, sizeof(a.prog_name));
        fd = sys_bpf(BPF_PROG_LOAD, &a);
    }
    return fd;
}

int ocirun_bpf_attach_device_program(int prog_fd, int cgroup_fd) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)cgroup_fd;
    a.attach_bpf_fd = (uint32_t)prog_fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    return sys_bpf(BPF_PROG_ATTACH, &a);
}

int ocirun_bpf_detach_device_program(int prog_fd, int cgroup_fd) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.target_fd = (uint32_t)cgroup_fd;
    a.attach_bpf_fd = (uint32_t)prog_fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    return sys_bpf(BPF_PROG_DETACH, &a);
}

int ocirun_bpf_query_device_programs(int cgroup_fd, uint32_t *ids, uint32_t *count) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.query.target_fd = (uint32_t)cgroup_fd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = (uint64_t)(uintptr_t)ids;
    a.query.prog_cnt = *count;
    int rc = sys_bpf(BPF_PROG_QUERY, &a);
    if (rc == 0 || errno == ENOSPC) *count = a.query.prog_cnt;
    return rc;
}

int ocirun_bpf_prog_fd_by_id(uint32_t id) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_id = id;
    return sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
}

int ocirun_setxattr(const char *path, const char *name, const void *value, size_t size) {
    return setxattr(path, name, value, size, 0);
}

long ocirun_getxattr(const char *path, const char *name, void *value, size_t size) {
    return (long)getxattr(path, name, value, size);
}

int ocirun_removexattr(const char *path, const char *name) {
    return removexattr(path, name);
}
