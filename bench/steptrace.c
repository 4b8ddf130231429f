// steptrace LO HI OUT -- COMMAND [ARG...]
//
// Runs COMMAND under ptrace, one instruction at a time, and records the code it runs: for the
// command's process and each process it forks or clones (until that process execs another
// program), every distinct instruction address in [LO, HI) once, in the order first run.
// The first process writes OUT.txt, the n-th one forked after it OUT.n.txt. When the command's
// own process exits, the others still traced are let go (a created container's init waits
// for `start`). Exits with the command's exit status.
//
// bench/order.sh uses it to find the functions each hot command runs, to lay them out side by
// side (docs/performance.md). Sampling profilers miss the functions run once, at start-up and
// in the container's init, and those are most of what a short command runs.
#define _GNU_SOURCE
#include <linux/limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

enum { max_tracees = 256 };

struct tracee {
    pid_t pid;
    int traced;               // still ours: not exited, not let go
    unsigned char *seen;      // one byte per address of [lo, hi)
    FILE *out;
};

static unsigned long lo, hi;
static const char *out_base;
static struct tracee tracees[max_tracees];
static int ntracees;

static struct tracee *tracee(pid_t pid, int create) {
    for (int i = 0; i < ntracees; i++)
        if (tracees[i].pid == pid) return &tracees[i];
    if (!create || ntracees == max_tracees) return NULL;
    char path[PATH_MAX];
    if (ntracees == 0) snprintf(path, sizeof path, "%s.txt", out_base);
    else snprintf(path, sizeof path, "%s.%d.txt", out_base, ntracees);
    struct tracee *t = &tracees[ntracees++];
    *t = (struct tracee){ .pid = pid, .traced = 1, .seen = calloc(hi - lo, 1), .out = fopen(path, "w") };
    if (!t->seen || !t->out) { perror(path); exit(125); }
    return t;
}

static void executable(pid_t pid, char *buf, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", pid);
    ssize_t n = readlink(link, buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
}

int main(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: steptrace LO HI OUT -- COMMAND [ARG...]\n");
        return 125;
    }
    lo = strtoul(argv[1], NULL, 16);
    hi = strtoul(argv[2], NULL, 16);
    out_base = argv[3];
    if (hi <= lo) { fprintf(stderr, "steptrace: empty address range\n"); return 125; }

    pid_t child = fork();
    if (child == 0) {
        ptrace(PTRACE_TRACEME, 0, NULL, NULL);
        execvp(argv[5], argv + 5);
        perror(argv[5]);
        _exit(127);
    }
    int status;
    if (waitpid(child, &status, 0) < 0 || !WIFSTOPPED(status)) { perror("steptrace: exec"); return 125; }
    ptrace(PTRACE_SETOPTIONS, child, NULL,
           PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    char self[PATH_MAX];
    executable(child, self, sizeof self);
    tracee(child, 1);
    ptrace(PTRACE_SINGLESTEP, child, NULL, NULL);

    int rc = 0, done = 0;
    unsigned long steps = 0;
    for (;;) {
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid < 0) break;
        struct tracee *t = tracee(pid, 1);
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            if (t) t->traced = 0;
            if (pid == child) {
                rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                done = 1;
                // Stop the rest, to let each go at its next stop.
                for (int i = 0; i < ntracees; i++)
                    if (tracees[i].traced) kill(tracees[i].pid, SIGSTOP);
            }
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status), event = status >> 16, deliver = 0;
        if (event == PTRACE_EVENT_EXEC) {
            char exe[PATH_MAX];
            executable(pid, exe, sizeof exe);
            if (strcmp(exe, self) != 0) {   // another program: not ours to trace
                if (t) t->traced = 0;
                ptrace(PTRACE_DETACH, pid, NULL, NULL);
                continue;
            }
        } else if (event == 0 && sig == SIGTRAP) {
            struct user_regs_struct regs;
            ptrace(PTRACE_GETREGS, pid, NULL, &regs);
            steps++;
            unsigned long ip = regs.rip;
            if (t && ip >= lo && ip < hi && !t->seen[ip - lo]) {
                t->seen[ip - lo] = 1;
                fprintf(t->out, "%lx\n", ip);
            }
        } else if (event == 0 && sig != SIGSTOP) {
            deliver = sig;
        }
        if (done) {
            if (t) t->traced = 0;
            ptrace(PTRACE_DETACH, pid, NULL, (void *)(long)(sig == SIGSTOP || sig == SIGTRAP ? 0 : sig));
            kill(pid, SIGCONT);   // a SIGSTOP of ours still pending would stop it for good
            continue;
        }
        ptrace(PTRACE_SINGLESTEP, pid, NULL, (void *)(long)deliver);
    }
    for (int i = 0; i < ntracees; i++) fclose(tracees[i].out);
    fprintf(stderr, "steptrace: %lu instructions, %d processes, exit %d\n", steps, ntracees, rc);
    return rc;
}
