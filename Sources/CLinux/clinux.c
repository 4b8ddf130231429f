#define _GNU_SOURCE
#include "CLinux.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pty.h>
#include <sched.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

const int ocirun_O_PATH = O_PATH;
int ocirun_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int ocirun_ptsname(int fd, char *buf, size_t len) { return ptsname_r(fd, buf, len); }

const int ocirun_CLONE_NEWNS = CLONE_NEWNS;
const int ocirun_CLONE_NEWUTS = CLONE_NEWUTS;
const int ocirun_CLONE_NEWIPC = CLONE_NEWIPC;
const int ocirun_CLONE_NEWUSER = CLONE_NEWUSER;
const int ocirun_CLONE_NEWPID = CLONE_NEWPID;
const int ocirun_CLONE_NEWNET = CLONE_NEWNET;
const int ocirun_CLONE_NEWCGROUP = CLONE_NEWCGROUP;
const int ocirun_CLONE_NEWTIME = CLONE_NEWTIME;

pid_t ocirun_clone(unsigned long flags) {
    /* Raw clone with a NULL stack behaves like fork(): the child continues on a copy of the stack. */
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

struct ocirun_clone_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

pid_t ocirun_clone_into_cgroup(unsigned long flags, int cgroupfd) {
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
    struct ocirun_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = (uint64_t)flags | 0x200000000ULL; /* CLONE_INTO_CGROUP */
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroupfd;
    /* No stack: like fork(), the child continues on a copy of this one. */
    return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

/* clone3 with CLONE_VM | CLONE_VFORK on a stack of the child's own; with `parent_tid`, the
 * kernel stores the child's pid there before the child first runs (CLONE_PARENT_SETTID). */
static pid_t clone_vfork(unsigned long flags, int cgroupfd, void *stack, size_t stack_size,
                         int (*fn)(void *), void *arg, pid_t *parent_tid) {
#if defined(__x86_64__)
    struct ocirun_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = (uint64_t)flags | CLONE_VM | CLONE_VFORK | (cgroupfd >= 0 ? 0x200000000ULL : 0)
        | (parent_tid ? CLONE_PARENT_SETTID : 0);
    args.parent_tid = (uint64_t)(uintptr_t)parent_tid;
    args.exit_signal = SIGCHLD;
    args.stack = (uint64_t)(uintptr_t)stack;
    args.stack_size = (uint64_t)stack_size;
    args.cgroup = cgroupfd >= 0 ? (uint64_t)cgroupfd : 0;
    register long rax __asm__("rax") = SYS_clone3;
    register void *rdi __asm__("rdi") = &args;
    register long rsi __asm__("rsi") = (long)sizeof args;
    register void *r12 __asm__("r12") = (void *)fn;
    register void *r13 __asm__("r13") = arg;
    /* The child starts on the new stack (rsp = stack + stack_size, 16-byte aligned), calls
     * fn(arg) and exits with its result; it never returns into this frame. */
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"
        "mov %%r13, %%rdi\n\t"
        "call *%%r12\n\t"
        "mov %%eax, %%edi\n\t"
        "mov $231, %%eax\n\t" /* exit_group */
        "syscall\n\t"
        "hlt\n"
        "1:\n\t"
        : "+r"(rax)
        : "r"(rdi), "r"(rsi), "r"(r12), "r"(r13)
        : "rcx", "r11", "rdx", "r8", "r9", "r10", "memory", "cc");
    if (rax < 0) {
        errno = (int)-rax;
        return -1;
    }
    return (pid_t)rax;
#else
    (void)flags; (void)cgroupfd; (void)stack; (void)stack_size; (void)fn; (void)arg; (void)parent_tid;
    errno = ENOSYS;
    return -1;
#endif
}

pid_t ocirun_clone_vfork(unsigned long flags, int cgroupfd, void *stack, size_t stack_size,
                         int (*fn)(void *), void *arg) {
    return clone_vfork(flags, cgroupfd, stack, stack_size, fn, arg, NULL);
}

struct ocirun_mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

int ocirun_mount_setattr_recursive(int fd, uint64_t attrs) {
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
    struct ocirun_mount_attr a;
    memset(&a, 0, sizeof a);
    a.attr_set = attrs;
    return (int)syscall(SYS_mount_setattr, fd, "", 0x1000 /* AT_EMPTY_PATH */ | 0x8000 /* AT_RECURSIVE */, &a, sizeof a);
}

int ocirun_unshare(int flags) { return unshare(flags); }
int ocirun_setns(int fd, int nstype) { return setns(fd, nstype); }
int ocirun_pivot_root(const char *n, const char *o) { return (int)syscall(SYS_pivot_root, n, o); }
int ocirun_prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5) {
    return prctl(option, a2, a3, a4, a5);
}

int ocirun_close_range_cloexec(unsigned int first) {
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
    return (int)syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC);
}

struct ocirun_open_how { uint64_t flags; uint64_t mode; uint64_t resolve; };
int ocirun_openat_in_root(int rootfd, const char *path, int flags, unsigned int mode) {
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
    struct ocirun_open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = 0x10 /* RESOLVE_IN_ROOT */ | 0x02 /* RESOLVE_NO_MAGICLINKS */;
    int fd;
    do {
        fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
    return fd;
}

int ocirun_pidfd_open(pid_t pid) {
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
    return (int)syscall(SYS_pidfd_open, pid, 0);
}
int ocirun_pidfd_send_signal(int pidfd, int sig) {
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

int ocirun_set_no_new_privs(void) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); }
int ocirun_clear_ambient_caps(void) { return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); }
int ocirun_set_dumpable(int v) { return prctl(PR_SET_DUMPABLE, v, 0, 0, 0); }
int ocirun_set_keepcaps(int v) { return prctl(PR_SET_KEEPCAPS, v, 0, 0, 0); }
int ocirun_set_pdeathsig(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int ocirun_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }
int ocirun_setgroups(size_t n, const gid_t *groups) { return (int)syscall(SYS_setgroups, n, groups); }
int ocirun_setresuid(uid_t r, uid_t e, uid_t s) { return (int)syscall(SYS_setresuid, r, e, s); }
int ocirun_setresgid(gid_t r, gid_t e, gid_t s) { return (int)syscall(SYS_setresgid, r, e, s); }
int ocirun_mknod(const char *path, unsigned int mode, unsigned int major, unsigned int minor) {
    return mknod(path, mode, makedev(major, minor));
}
unsigned long ocirun_makedev(unsigned int major, unsigned int minor) { return makedev(major, minor); }
int ocirun_errno(void) { return errno; }
void ocirun_set_errno(int e) { errno = e; }

int ocirun_send_fd(int sock, int fd, const char *msg, size_t msglen) {
    return ocirun_send_fds(sock, &fd, 1, msg, msglen);
}

int ocirun_recv_fd(int sock, char *buf, size_t buflen, int *fd_out) {
    int n = 0;
    int r = ocirun_recv_fds(sock, buf, buflen, fd_out, 1, &n);
    if (n == 0) *fd_out = -1;
    return r;
}

int ocirun_send_fds(int sock, const int *fds, int nfds, const char *msg, size_t msglen) {
    if (nfds < 0 || nfds > OCIRUN_MAX_PASSED_FDS) { errno = EINVAL; return -1; }
    char dummy = 0;
    struct iovec iov = { .iov_base = msglen ? (void *)msg : &dummy, .iov_len = msglen ? msglen : 1 };
    union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int) * OCIRUN_MAX_PASSED_FDS)]; } u;
    memset(&u, 0, sizeof u);
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (nfds > 0) {
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do { n = sendmsg(sock, &mh, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : 0;
}

int ocirun_recv_fds(int sock, char *buf, size_t buflen, int *fds_out, int maxfds, int *nfds) {
    struct iovec iov = { .iov_base = buf, .iov_len = buflen };
    union { struct cmsghdr hdr; char buf[CMSG_SPACE(sizeof(int) * OCIRUN_MAX_PASSED_FDS)]; } u;
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
    ssize_t n;
    do { n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    *nfds = 0;
    if (n < 0) return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *in = (int *)CMSG_DATA(c);
        for (int i = 0; i < k; i++) {
            if (*nfds < maxfds) fds_out[(*nfds)++] = in[i];
            else close(in[i]);
        }
    }
    return (int)n;
}

struct ocirun_netns_job { pthread_t thread; int fd; int err; };

static void *ocirun_netns_thread(void *arg) {
    struct ocirun_netns_job *job = arg;
    /* Namespaces belong to the task: this thread alone moves to the new one. */
    if (unshare(CLONE_NEWNET) != 0) { job->err = errno; return NULL; }
    job->fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (job->fd < 0) job->err = errno;
    return NULL;
}

void *ocirun_netns_start(void) {
    struct ocirun_netns_job *job = calloc(1, sizeof *job);
    if (!job) return NULL;
    job->fd = -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    int rc = pthread_create(&job->thread, &attr, ocirun_netns_thread, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) { free(job); errno = rc; return NULL; }
    return job;
}

int ocirun_netns_finish(void *handle) {
    struct ocirun_netns_job *job = handle;
    pthread_join(job->thread, NULL);
    int fd = job->fd, err = job->err;
    free(job);
    if (fd < 0) { errno = err; return -1; }
    return fd;
}

/* The init launcher: a thread that makes the network namespace (optional), then, when asked,
 * starts the container's init in this process's memory (clone_vfork) and stays blocked until the
 * init has exec'd or exited. The init runs on this thread's glibc thread state (TLS, errno,
 * malloc's per-thread cache), which nothing else uses while the thread is blocked; the caller's
 * main thread goes on beside it as with any thread. */
struct ocirun_launcher {
    pthread_t thread;
    int netns_err;               /* errno of unshare(CLONE_NEWNET), 0 if it worked or was not asked */
    int want_netns;
    int go;                      /* futex: 0 waiting, 1 clone, 2 cancelled */
    unsigned long flags;
    int cgroupfd;
    int (*fn)(void *);
    void *arg;
    pid_t pid;                   /* futex: the init's pid (kernel, CLONE_PARENT_SETTID), or -1 */
    int clone_err;
    int done;                    /* futex: 1 once the init has exec'd or exited (or clone failed) */
    int netns_ready;             /* futex: 1 once the namespace is made (or failed) */
    pid_t tid;                   /* the launcher thread's id: its namespace is /proc/self/task/TID/ns/net */
};

static long futex_op(int *addr, int op, int val) {
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}
static void futex_wait_while(int *addr, int value) {
    while (__atomic_load_n(addr, __ATOMIC_ACQUIRE) == value) {
        futex_op(addr, FUTEX_WAIT_PRIVATE, value);
    }
}
static void futex_set_wake(int *addr, int value) {
    __atomic_store_n(addr, value, __ATOMIC_RELEASE);
    futex_op(addr, FUTEX_WAKE_PRIVATE, 1 << 30);
}

/* The init's first code: it takes what it needs from the launcher record, then tells the main
 * thread that its pid is there (the kernel wrote it before the init first ran). */
static int launcher_child(void *p) {
    struct ocirun_launcher *l = p;
    int (*fn)(void *) = l->fn;
    void *arg = l->arg;
    futex_op((int *)&l->pid, FUTEX_WAKE_PRIVATE, 1 << 30);
    return fn(arg);
}

#define LAUNCHER_STACK (1024 * 1024)
#define LAUNCHER_GUARD 4096

static void *launcher_thread(void *p) {
    struct ocirun_launcher *l = p;
    l->tid = (pid_t)syscall(SYS_gettid);
    if (l->want_netns) {
        if (unshare(CLONE_NEWNET) != 0) l->netns_err = errno;
    }
    futex_set_wake(&l->netns_ready, 1);
    futex_wait_while(&l->go, 0);
    if (l->go != 1) return NULL;
    if (l->netns_err) {
        l->clone_err = l->netns_err;
        futex_set_wake((int *)&l->pid, -1);
        futex_set_wake(&l->done, 1);
        return NULL;
    }
    /* The init's stack: pages come as it touches them; a guard page below. */
    char *stack = mmap(NULL, LAUNCHER_STACK + LAUNCHER_GUARD, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED) {
        l->clone_err = errno;
        futex_set_wake((int *)&l->pid, -1);
        futex_set_wake(&l->done, 1);
        return NULL;
    }
    mprotect(stack, LAUNCHER_GUARD, PROT_NONE);
    pid_t pid = clone_vfork(l->flags, l->cgroupfd, stack + LAUNCHER_GUARD, LAUNCHER_STACK,
                            launcher_child, l, &l->pid);
    if (pid < 0) {
        l->clone_err = errno;
        futex_set_wake((int *)&l->pid, -1);
    }
    /* Here the init has exec'd or exited: its stack is free. */
    munmap(stack, LAUNCHER_STACK + LAUNCHER_GUARD);
    futex_set_wake(&l->done, 1);
    return NULL;
}

void *ocirun_launcher_start(int new_netns) {
    struct ocirun_launcher *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->want_netns = new_netns;
    l->cgroupfd = -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&l->thread, &attr, launcher_thread, l);
    pthread_attr_destroy(&attr);
    if (rc != 0) { free(l); errno = rc; return NULL; }
    return l;
}

pid_t ocirun_launcher_clone(void *handle, unsigned long flags, int cgroupfd, int (*fn)(void *), void *arg,
                            int *netns_failed) {
    struct ocirun_launcher *l = handle;
    l->flags = flags;
    l->cgroupfd = cgroupfd;
    l->fn = fn;
    l->arg = arg;
    futex_set_wake(&l->go, 1);
    futex_wait_while((int *)&l->pid, 0);
    pid_t pid = __atomic_load_n(&l->pid, __ATOMIC_ACQUIRE);
    if (pid < 0) {
        *netns_failed = l->netns_err != 0;
        errno = l->clone_err;
        return -1;
    }
    *netns_failed = 0;
    return pid;
}

void ocirun_launcher_wait(void *handle) {
    struct ocirun_launcher *l = handle;
    futex_wait_while(&l->done, 0);
}

void ocirun_launcher_cancel(void *handle) {
    struct ocirun_launcher *l = handle;
    futex_set_wake(&l->go, 2);
}

int ocirun_launcher_netns_ready(void *handle) {
    struct ocirun_launcher *l = handle;
    return __atomic_load_n(&l->netns_ready, __ATOMIC_ACQUIRE);
}

int ocirun_launcher_take_netns(void *handle) {
    struct ocirun_launcher *l = handle;
    futex_wait_while(&l->netns_ready, 0);
    if (l->netns_err) { errno = l->netns_err; return -1; }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/ns/net", (int)l->tid);
    return open(path, O_RDONLY | O_CLOEXEC);
}

int ocirun_rename_exchange(const char *a, const char *b) {
    return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
}

int ocirun_wifexited(int s) { return WIFEXITED(s); }
int ocirun_wexitstatus(int s) { return WEXITSTATUS(s); }
int ocirun_wifsignaled(int s) { return WIFSIGNALED(s); }
int ocirun_wtermsig(int s) { return WTERMSIG(s); }

int ocirun_openpty(int *master, int *slave, unsigned short rows, unsigned short cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    int r = openpty(master, slave, NULL, NULL, (rows || cols) ? &ws : NULL);
    if (r == 0) { fcntl(*master, F_SETFD, FD_CLOEXEC); }
    return r;
}
int ocirun_set_ctty(int fd) { return ioctl(fd, TIOCSCTTY, 0); }
int ocirun_get_winsize(int fd, unsigned short *rows, unsigned short *cols) {
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0) return -1;
    *rows = ws.ws_row; *cols = ws.ws_col; return 0;
}
int ocirun_set_winsize(int fd, unsigned short rows, unsigned short cols) {
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    return ioctl(fd, TIOCSWINSZ, &ws);
}

int ocirun_sigmask_all(int block) {
    sigset_t s; sigfillset(&s);
    return sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &s, NULL);
}
int ocirun_reset_signals(void) {
    for (int i = 1; i < NSIG; i++) {
        if (i == SIGKILL || i == SIGSTOP) continue;
        signal(i, SIG_DFL);
    }
    sigset_t s; sigemptyset(&s);
    return sigprocmask(SIG_SETMASK, &s, NULL);
}
int ocirun_execve(const char *path, char *const argv[], char *const envp[]) { return execve(path, argv, envp); }

/* argc and argv as glibc hands them to constructors (static and dynamic binaries alike), so
   that the runtime binary reads its arguments without the stdlib's CommandLine. */
static int saved_argc;
static char **saved_argv;

__attribute__((constructor)) static void ocirun_save_args(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

int ocirun_argc(void) { return saved_argc; }
char **ocirun_argv(void) { return saved_argv; }
