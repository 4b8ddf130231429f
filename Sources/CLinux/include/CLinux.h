#ifndef OCIRUN_CLINUX_H
#define OCIRUN_CLINUX_H
/*
 * What Swift's Glibc module does not expose: raw clone, setns, unshare, pivot_root, openat2,
 * prctl, close_range, mount_setattr, pidfd_*, and the CLONE_* / MS_* / PR_* constants.
 * Wrappers return -1 and set errno like libc; a call the kernel lacks reports ENOSYS so callers
 * can fall back (crun's rule).
 */
#include <stdint.h>
#include <sys/types.h>
#include <signal.h>
#include "CLinuxBPF.h"

#ifdef __cplusplus
extern "C" {
#endif

/* _GNU_SOURCE bits Swift's Glibc module leaves out. */
extern const int ocirun_O_PATH;
int ocirun_pipe2(int fds[2], int flags);
int ocirun_ptsname(int fd, char *buf, size_t len);

/* Namespace flags (clone(2)). */
extern const int ocirun_CLONE_NEWNS;
extern const int ocirun_CLONE_NEWUTS;
extern const int ocirun_CLONE_NEWIPC;
extern const int ocirun_CLONE_NEWUSER;
extern const int ocirun_CLONE_NEWPID;
extern const int ocirun_CLONE_NEWNET;
extern const int ocirun_CLONE_NEWCGROUP;
extern const int ocirun_CLONE_NEWTIME;

/* fork-like clone(2) with extra namespace flags; returns 0 in the child, pid in the parent. */
pid_t ocirun_clone(unsigned long flags);
/* The same through clone3(2) with CLONE_INTO_CGROUP: the child starts in the cgroup2 directory
 * `cgroupfd` (no later cgroup.procs write, which takes the kernel's global threadgroup lock).
 * -1 with errno ENOSYS or E2BIG where the kernel has no clone3 or no CLONE_INTO_CGROUP. */
pid_t ocirun_clone_into_cgroup(unsigned long flags, int cgroupfd);
/* mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE) setting `attrs` (MOUNT_ATTR_RDONLY 0x1,
 * NOSUID 0x2, NODEV 0x4, NOEXEC 0x8) on the mount at `fd` and every mount below it (Linux 5.12).
 * -1 with errno ENOSYS where the kernel lacks it. */
int ocirun_mount_setattr_recursive(int fd, uint64_t attrs);
/* posix_spawn-style clone3: CLONE_VM | CLONE_VFORK | `flags`, into the cgroup2 directory
 * `cgroupfd` when it is >= 0 (CLONE_INTO_CGROUP). The child runs `fn(arg)` on `stack` (its top is
 * stack + stack_size) in this process's memory; this call returns, with the child's pid, once
 * the child has exec'd or exited. No page tables are copied and the child faults nothing in.
 * x86_64 only: elsewhere -1 with errno ENOSYS (the caller forks instead). */
pid_t ocirun_clone_vfork(unsigned long flags, int cgroupfd, void *stack, size_t stack_size,
                         int (*fn)(void *), void *arg);
/* The init launcher (docs/design.md, "The init shares the runtime's memory"): a thread that
 * makes a new network namespace when `new_netns` (so that the init is born in it), then waits.
 * ocirun_launcher_clone asks it to start fn(arg) with clone_vfork semantics in the cgroup2
 * directory `cgroupfd` (>= 0) and returns the child's pid as soon as the child runs (or -1 with
 * errno; *netns_failed tells that the namespace could not be made). ocirun_launcher_wait returns
 * once the child has exec'd or exited: nothing of the process may be torn down before (its exit
 * path, say) while the child still runs in its memory. ocirun_launcher_cancel lets the thread end
 * without starting anything. The record is never freed (a few bytes, once per process).
 * x86_64 only: elsewhere the clone fails with ENOSYS. */
void *ocirun_launcher_start(int new_netns);

pid_t ocirun_launcher_clone(void *handle, unsigned long flags, int cgroupfd, int (*fn)(void *), void *arg,
                            int *netns_failed);
void ocirun_launcher_wait(void *handle);
void ocirun_launcher_cancel(void *handle);
/* The namespace the launcher made, as a close-on-exec descriptor now the caller's (it waits until
 * the namespace is made), for a caller that forks after all; -1 with errno. Cancel afterwards. */
int ocirun_launcher_take_netns(void *handle);
/* Nonzero once the launcher has made the network namespace (or was asked for none). */
int ocirun_launcher_netns_ready(void *handle);
int ocirun_unshare(int flags);
int ocirun_setns(int fd, int nstype);
int ocirun_pivot_root(const char *new_root, const char *put_old);
int ocirun_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5);
int ocirun_close_range_cloexec(unsigned int first);
/* openat2 with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS; ENOSYS when the kernel lacks it. */
int ocirun_openat_in_root(int rootfd, const char *path, int flags, unsigned int mode);
int ocirun_pidfd_open(pid_t pid);
int ocirun_pidfd_send_signal(int pidfd, int sig);
int ocirun_set_no_new_privs(void);
int ocirun_clear_ambient_caps(void);
int ocirun_set_dumpable(int value);
int ocirun_set_keepcaps(int value);
int ocirun_set_pdeathsig(int sig);
int ocirun_set_child_subreaper(void);
int ocirun_setgroups(size_t n, const gid_t *groups);
/* Raw setuid/setgid/setresuid syscalls: a single-threaded static binary avoids glibc's setxid broadcast. */
int ocirun_setresuid(uid_t r, uid_t e, uid_t s);
int ocirun_setresgid(gid_t r, gid_t e, gid_t s);
int ocirun_mknod(const char *path, unsigned int mode, unsigned int major, unsigned int minor);
unsigned long ocirun_makedev(unsigned int major, unsigned int minor);
int ocirun_errno(void);
void ocirun_set_errno(int e);

/* SCM_RIGHTS over a unix socket. */
int ocirun_send_fd(int sock, int fd, const char *msg, size_t msglen);
int ocirun_recv_fd(int sock, char *buf, size_t buflen, int *fd_out);
/* Up to OCIRUN_MAX_PASSED_FDS descriptors with one message (SCM_RIGHTS). recv returns the
   message length and sets *nfds; received descriptors are close-on-exec. */
#define OCIRUN_MAX_PASSED_FDS 32

/* A new network namespace made by a helper thread while the caller goes on (creating one
   takes a few hundred microseconds in the kernel: loopback, sysctl tables). start returns a
   handle (NULL with errno on failure); finish waits and returns a close-on-exec descriptor of
   the namespace, or -1 with errno. */
/// renameat2(RENAME_EXCHANGE): swaps the two names atomically; both must exist.
int ocirun_rename_exchange(const char *a, const char *b);
void *ocirun_netns_start(void);
int ocirun_netns_finish(void *handle);
int ocirun_send_fds(int sock, const int *fds, int nfds, const char *msg, size_t msglen);
int ocirun_recv_fds(int sock, char *buf, size_t buflen, int *fds_out, int maxfds, int *nfds);

/* wait status decoding (macros in C). */
int ocirun_wifexited(int status);
int ocirun_wexitstatus(int status);
int ocirun_wifsignaled(int status);
int ocirun_wtermsig(int status);

/* Terminal helpers. */
int ocirun_openpty(int *master, int *slave, unsigned short rows, unsigned short cols);
int ocirun_set_ctty(int fd);
int ocirun_get_winsize(int fd, unsigned short *rows, unsigned short *cols);
int ocirun_set_winsize(int fd, unsigned short rows, unsigned short cols);

/* Signals. */
int ocirun_sigmask_all(int block);
int ocirun_reset_signals(void);

extern char **environ;
int ocirun_execve(const char *path, char *const argv[], char *const envp[]);

/* The program's argc and argv, saved by a constructor (what glibc passes to constructors). */
int ocirun_argc(void);
char **ocirun_argv(void);

#ifdef __cplusplus
}
#endif
#endif
