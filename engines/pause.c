/* The sandbox ("pause") process of the CRI tests: holds the pod's namespaces open and sleeps
 * until SIGTERM or SIGINT; reaps any child it inherits. Built statically by engines/image.py. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
    (void)sig;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    signal(SIGTERM, quit);
    signal(SIGINT, quit);
    signal(SIGCHLD, reap);
    for (;;)
        pause();
}
