/* The container side of scripts/test-hooks.sh: what a user would check, one line each. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *errname(int e) {
    switch (e) {
    case EPERM: return "EPERM"; case ENXIO: return "ENXIO"; case ENOENT: return "ENOENT";
    case ENODEV: return "ENODEV"; case EACCES: return "EACCES"; default: return strerror(e);
    }
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "dlopen") && i + 1 < argc) {
            /* dlopen LIB: loads it through the dynamic loader and calls fake_id() if it has one. */
            const char *lib = argv[++i];
            void *h = dlopen(lib, RTLD_NOW);
            if (!h) { printf("dlopen %s: failed: %s\n", lib, dlerror()); continue; }
            const char *(*id)(void) = (const char *(*)(void))dlsym(h, "fake_id");
            printf("dlopen %s: ok %s\n", lib, id ? id() : "");
        } else if (!strcmp(argv[i], "stat") && i + 1 < argc) {
            const char *p = argv[++i];
            struct stat st;
            if (stat(p, &st) != 0) { printf("stat %s: %s\n", p, errname(errno)); continue; }
            char t = S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : S_ISDIR(st.st_mode) ? 'd' : 'f';
            if (t == 'c' || t == 'b') printf("stat %s: %c %u:%u\n", p, t, major(st.st_rdev), minor(st.st_rdev));
            else printf("stat %s: %c\n", p, t);
        } else if (!strcmp(argv[i], "open") && i + 1 < argc) {
            /* A fake node passes the device cgroup and then finds no driver: ENXIO. A node the
               cgroup refuses fails with EPERM before any driver is looked for. */
            const char *p = argv[++i];
            int fd = open(p, O_RDWR);
            if (fd >= 0) { printf("open %s: ok\n", p); close(fd); }
            else printf("open %s: %s\n", p, errname(errno));
        } else if (!strcmp(argv[i], "mknod-open") && i + 3 < argc) {
            const char *p = argv[++i];
            unsigned ma = (unsigned)atoi(argv[++i]), mi = (unsigned)atoi(argv[++i]);
            if (mknod(p, S_IFCHR | 0666, makedev(ma, mi)) != 0) { printf("mknod %s %u:%u: %s\n", p, ma, mi, errname(errno)); continue; }
            int fd = open(p, O_RDWR);
            if (fd >= 0) { printf("open %s (%u:%u): ok\n", p, ma, mi); close(fd); }
            else printf("open %s (%u:%u): %s\n", p, ma, mi, errname(errno));
            unlink(p);
        }
    }
    return 0;
}
