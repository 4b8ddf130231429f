/*
 * probe: a tiny static program run inside the container under test.
 *
 * It reports what the container sees as "key=value" lines on stdout, one
 * operation per command-line word.  An operation is either a bare name
 * ("ids", "caps") or "name=argument" ("mkdir=/foo", "mount=/proc").
 * Operations run in order, so one invocation can both change and observe
 * state ("umask", "mkdir=/x", "stat=/x").  Failures are reported as the
 * errno name, never as a crash, so the harness can assert on them.
 *
 * Built with `cc -static -O2`; it must not depend on anything in the rootfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *errname(int e) {
    switch (e) {
    case 0: return "OK";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case EXDEV: return "EXDEV";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOTTY: return "ENOTTY";
    case EFBIG: return "EFBIG";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case EMLINK: return "EMLINK";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case ENOSYS: return "ENOSYS";
    case ENOTEMPTY: return "ENOTEMPTY";
    case ELOOP: return "ELOOP";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: {
        static char buf[32];
        snprintf(buf, sizeof buf, "E%d", e);
        return buf;
    }
    }
}

/* Print one line, escaping newlines so every report stays one line. */
static void kv(const char *key, const char *val) {
    fputs(key, stdout);
    fputc('=', stdout);
    for (const char *p = val; *p; p++) {
        if (*p == '\n') fputs("\\n", stdout);
        else fputc(*p, stdout);
    }
    fputc('\n', stdout);
}

static void kv2(const char *key, const char *arg, const char *val) {
    char k[PATH_MAX + 64];
    snprintf(k, sizeof k, "%s:%s", key, arg);
    kv(k, val);
}

static int read_file(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t off = 0;
    for (;;) {
        ssize_t n = read(fd, buf + off, len - 1 - off);
        if (n < 0) { int e = errno; close(fd); return -e; }
        if (n == 0) break;
        off += (size_t)n;
        if (off >= len - 1) break;
    }
    close(fd);
    buf[off] = 0;
    return (int)off;
}

static void chomp(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
}

/* Lines of /proc/self/status whose key starts with prefix. */
static void status_field(const char *field, const char *outkey) {
    char buf[16384];
    if (read_file("/proc/self/status", buf, sizeof buf) < 0) { kv(outkey, "ERR"); return; }
    size_t fl = strlen(field);
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            char *v = line + fl + 1;
            while (*v == ' ' || *v == '\t') v++;
            kv(outkey, v);
            return;
        }
    }
    kv(outkey, "MISSING");
}

static void op_ids(void) {
    uid_t r, e, s; gid_t gr, ge, gs;
    char b[256];
    getresuid(&r, &e, &s); getresgid(&gr, &ge, &gs);
    snprintf(b, sizeof b, "%u,%u,%u", r, e, s); kv("uid", b);
    snprintf(b, sizeof b, "%u,%u,%u", gr, ge, gs); kv("gid", b);
    gid_t g[256];
    int n = getgroups(256, g);
    char out[4096] = "";
    for (int i = 0; i < n; i++) {
        char one[32];
        snprintf(one, sizeof one, i ? ",%u" : "%u", g[i]);
        strncat(out, one, sizeof out - strlen(out) - 1);
    }
    kv("groups", out);
}

static void op_caps(void) {
    status_field("CapInh", "cap.inh");
    status_field("CapPrm", "cap.prm");
    status_field("CapEff", "cap.eff");
    status_field("CapBnd", "cap.bnd");
    status_field("CapAmb", "cap.amb");
}

static void op_mount(const char *path) {
    char buf[1 << 16];
    if (read_file("/proc/self/mountinfo", buf, sizeof buf) < 0) { kv2("mount", path, "ERR"); return; }
    /* Report the last (topmost) mount at exactly this mount point. */
    char found[4096] = "";
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        char copy[4096];
        snprintf(copy, sizeof copy, "%s", line);
        char *save = NULL;
        char *f = strtok_r(copy, " ", &save);
        for (int i = 0; f && i < 4; i++) f = strtok_r(NULL, " ", &save);
        if (f && strcmp(f, path) == 0) snprintf(found, sizeof found, "%s", line);
    }
    kv2("mount", path, found[0] ? found : "none");
}

static void op_mountinfo(void) {
    char buf[1 << 16];
    if (read_file("/proc/self/mountinfo", buf, sizeof buf) < 0) { kv("mountinfo", "ERR"); return; }
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) kv("mountinfo", line);
}

static void op_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) { kv("fds", errname(errno)); return; }
    int self = dirfd(d);
    char out[4096] = "";
    int first = 1;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        if (atoi(e->d_name) == self) continue;
        if (!first) strncat(out, ",", sizeof out - strlen(out) - 1);
        strncat(out, e->d_name, sizeof out - strlen(out) - 1);
        first = 0;
    }
    closedir(d);
    kv("fds", out);
}

static void op_env(void) {
    for (char **e = environ; *e; e++) {
        char k[PATH_MAX];
        snprintf(k, sizeof k, "env:%s", *e);
        char *eq = strchr(k, '=');
        if (eq) { *eq = 0; kv(k, eq + 1); }
        else kv(k, "");
    }
}

static const struct { const char *name; int res; } rlims[] = {
    {"AS", RLIMIT_AS}, {"CORE", RLIMIT_CORE}, {"CPU", RLIMIT_CPU}, {"DATA", RLIMIT_DATA},
    {"FSIZE", RLIMIT_FSIZE}, {"LOCKS", RLIMIT_LOCKS}, {"MEMLOCK", RLIMIT_MEMLOCK},
    {"MSGQUEUE", RLIMIT_MSGQUEUE}, {"NICE", RLIMIT_NICE}, {"NOFILE", RLIMIT_NOFILE},
    {"NPROC", RLIMIT_NPROC}, {"RSS", RLIMIT_RSS}, {"RTPRIO", RLIMIT_RTPRIO},
    {"RTTIME", RLIMIT_RTTIME}, {"SIGPENDING", RLIMIT_SIGPENDING}, {"STACK", RLIMIT_STACK},
};

static void fmt_lim(char *b, size_t n, rlim_t v) {
    if (v == RLIM_INFINITY) snprintf(b, n, "unlimited");
    else snprintf(b, n, "%llu", (unsigned long long)v);
}

static void op_rlimits(void) {
    for (size_t i = 0; i < sizeof rlims / sizeof rlims[0]; i++) {
        struct rlimit rl;
        char s[32], h[32], v[80];
        if (getrlimit(rlims[i].res, &rl) < 0) { kv2("rlimit", rlims[i].name, errname(errno)); continue; }
        fmt_lim(s, sizeof s, rl.rlim_cur); fmt_lim(h, sizeof h, rl.rlim_max);
        snprintf(v, sizeof v, "%s,%s", s, h);
        kv2("rlimit", rlims[i].name, v);
    }
}

static void op_read(const char *key, const char *path) {
    char buf[65536];
    int n = read_file(path, buf, sizeof buf);
    if (n < 0) { kv2(key, path, errname(-n)); return; }
    chomp(buf);
    kv2(key, path, buf);
}

static void op_sysctl(const char *name) {
    char path[PATH_MAX] = "/proc/sys/";
    size_t l = strlen(path);
    for (const char *p = name; *p && l < sizeof path - 1; p++) path[l++] = (*p == '.') ? '/' : *p;
    path[l] = 0;
    char buf[4096];
    int n = read_file(path, buf, sizeof buf);
    if (n < 0) { kv2("sysctl", name, errname(-n)); return; }
    chomp(buf);
    kv2("sysctl", name, buf);
}

static void op_ns(void) {
    const char *names[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[64], t[256];
        snprintf(p, sizeof p, "/proc/self/ns/%s", names[i]);
        ssize_t n = readlink(p, t, sizeof t - 1);
        if (n < 0) { kv2("ns", names[i], errname(errno)); continue; }
        t[n] = 0;
        kv2("ns", names[i], t);
    }
}

static void op_stat(const char *path) {
    struct stat st;
    if (lstat(path, &st) < 0) { kv2("stat", path, errname(errno)); return; }
    const char *type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" :
                       S_ISCHR(st.st_mode) ? "char" : S_ISBLK(st.st_mode) ? "block" :
                       S_ISLNK(st.st_mode) ? "symlink" : S_ISFIFO(st.st_mode) ? "fifo" :
                       S_ISSOCK(st.st_mode) ? "socket" : "other";
    char b[256];
    snprintf(b, sizeof b, "%s,%04o,%u,%u,%u,%u,%lld", type, st.st_mode & 07777, st.st_uid, st.st_gid,
             major(st.st_rdev), minor(st.st_rdev), (long long)st.st_size);
    kv2("stat", path, b);
}

static void op_write(const char *arg) {
    /* write=PATH or write=PATH:CONTENT */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", arg);
    const char *content = "probe\n";
    char *colon = strchr(path, ':');
    if (colon) { *colon = 0; content = colon + 1; }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { kv2("write", path, errname(errno)); return; }
    int e = 0;
    if (write(fd, content, strlen(content)) < 0) e = errno;
    if (close(fd) < 0 && !e) e = errno;
    kv2("write", path, errname(e));
}

static void op_open(const char *path, int flags, const char *key) {
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0) { kv2(key, path, errname(errno)); return; }
    close(fd);
    kv2(key, path, "OK");
}

/* Fork children that stay alive until all forks are done: reports how many succeeded. */
static void op_fork(const char *arg) {
    int want = atoi(arg), got = 0, err = 0;
    pid_t kids[4096];
    int pfd[2];
    if (pipe(pfd) < 0) { kv("fork", errname(errno)); return; }
    for (int i = 0; i < want && i < 4096; i++) {
        pid_t p = fork();
        if (p < 0) { err = errno; break; }
        if (p == 0) { char c; close(pfd[1]); (void)!read(pfd[0], &c, 1); _exit(0); }
        kids[got++] = p;
    }
    close(pfd[1]); close(pfd[0]);
    for (int i = 0; i < got; i++) waitpid(kids[i], NULL, 0);
    char b[64];
    snprintf(b, sizeof b, "%d,%s", got, errname(err));
    kv("fork", b);
}

static void op_alloc(const char *arg) {
    size_t mb = (size_t)atol(arg);
    fflush(stdout);
    char *p = mmap(NULL, mb << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { kv("alloc", errname(errno)); return; }
    for (size_t i = 0; i < (mb << 20); i += 4096) p[i] = 1;
    kv("alloc", "OK");
    munmap(p, mb << 20);
}

static volatile sig_atomic_t got_sig;
static void on_sig(int s) { got_sig = s; }

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        char op[PATH_MAX];
        snprintf(op, sizeof op, "%s", argv[i]);
        char *arg = strchr(op, '=');
        if (arg) *arg++ = 0;
        else arg = "";

        if (!strcmp(op, "ids")) op_ids();
        else if (!strcmp(op, "caps")) op_caps();
        else if (!strcmp(op, "cwd")) { char b[PATH_MAX]; kv("cwd", getcwd(b, sizeof b) ? b : errname(errno)); }
        else if (!strcmp(op, "hostname")) { struct utsname u; uname(&u); kv("hostname", u.nodename); kv("domainname", u.domainname); }
        else if (!strcmp(op, "mount")) op_mount(arg);
        else if (!strcmp(op, "mountinfo")) op_mountinfo();
        else if (!strcmp(op, "fds")) op_fds();
        else if (!strcmp(op, "env")) op_env();
        else if (!strcmp(op, "args")) { for (int j = 0; j < argc; j++) { char k[32]; snprintf(k, sizeof k, "arg%d", j); kv(k, argv[j]); } }
        else if (!strcmp(op, "rlimits")) op_rlimits();
        else if (!strcmp(op, "oom")) { char b[64]; int n = read_file("/proc/self/oom_score_adj", b, sizeof b); if (n < 0) kv("oom_score_adj", errname(-n)); else { chomp(b); kv("oom_score_adj", b); } }
        else if (!strcmp(op, "nnp")) { char b[16]; snprintf(b, sizeof b, "%d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)); kv("nnp", b); }
        else if (!strcmp(op, "seccomp")) status_field("Seccomp", "seccomp");
        else if (!strcmp(op, "umask")) { mode_t m = umask(0); umask(m); char b[16]; snprintf(b, sizeof b, "%04o", m); kv("umask", b); }
        else if (!strcmp(op, "ns")) op_ns();
        else if (!strcmp(op, "pid")) { char b[32]; snprintf(b, sizeof b, "%d", getpid()); kv("pid", b); snprintf(b, sizeof b, "%d", getppid()); kv("ppid", b); }
        else if (!strcmp(op, "cat")) op_read("cat", arg);
        else if (!strcmp(op, "sysctl")) op_sysctl(arg);
        else if (!strcmp(op, "stat")) op_stat(arg);
        else if (!strcmp(op, "write")) op_write(arg);
        else if (!strcmp(op, "open")) op_open(arg, O_RDONLY, "open");
        else if (!strcmp(op, "openrw")) op_open(arg, O_RDWR, "openrw");
        else if (!strcmp(op, "mkdir")) kv2("mkdir", arg, errname(mkdir(arg, 0755) < 0 ? errno : 0));
        else if (!strcmp(op, "rmdir")) kv2("rmdir", arg, errname(rmdir(arg) < 0 ? errno : 0));
        else if (!strcmp(op, "unlink")) kv2("unlink", arg, errname(unlink(arg) < 0 ? errno : 0));
        else if (!strcmp(op, "chdir")) kv2("chdir", arg, errname(chdir(arg) < 0 ? errno : 0));
        else if (!strcmp(op, "sethostname")) kv2("sethostname", arg, errname(sethostname(arg, strlen(arg)) < 0 ? errno : 0));
        else if (!strcmp(op, "setuid")) kv2("setuid", arg, errname(setuid((uid_t)atoi(arg)) < 0 ? errno : 0));
        else if (!strcmp(op, "chown")) kv2("chown", arg, errname(chown(arg, 1, 1) < 0 ? errno : 0));
        else if (!strcmp(op, "mknod")) kv2("mknod", arg, errname(mknod(arg, S_IFCHR | 0600, makedev(1, 3)) < 0 ? errno : 0));
        else if (!strcmp(op, "readlink")) { char t[PATH_MAX]; ssize_t n = readlink(arg, t, sizeof t - 1); if (n < 0) kv2("readlink", arg, errname(errno)); else { t[n] = 0; kv2("readlink", arg, t); } }
        else if (!strcmp(op, "fork")) op_fork(arg);
        else if (!strcmp(op, "alloc")) op_alloc(arg);
        else if (!strcmp(op, "echo")) kv("echo", arg);
        else if (!strcmp(op, "stdin")) { char b[4096]; ssize_t n = read(0, b, sizeof b - 1); if (n < 0) kv("stdin", errname(errno)); else { b[n] = 0; chomp(b); kv("stdin", b); } }
        else if (!strcmp(op, "sleep")) { struct timespec ts = {atoi(arg), 0}; while (nanosleep(&ts, &ts) < 0 && errno == EINTR) ; }
        else if (!strcmp(op, "trap")) {
            /* trap=SIGNUM: catch a signal, write its number to the given file on arrival, exit 0 */
            signal(atoi(arg), on_sig);
        }
        else if (!strcmp(op, "wait")) {
            /* wait=FILE: block until a trapped signal arrives, then record it in FILE */
            while (!got_sig) pause();
            int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) { char b[16]; int n = snprintf(b, sizeof b, "%d\n", (int)got_sig); (void)!write(fd, b, n); close(fd); }
            char b[16]; snprintf(b, sizeof b, "%d", (int)got_sig); kv("signal", b);
        }
        else if (!strcmp(op, "pause")) { for (;;) pause(); }
        else if (!strcmp(op, "exit")) { fflush(stdout); _exit(atoi(arg)); }
        else { kv("unknown-op", op); }
    }
    return 0;
}
