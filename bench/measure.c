/* twinvm-measure: runs one program as `twinvm bench --startup` times it, and says what it took.
 *
 *   twinvm-measure PROGRAM [ARG...]
 *
 * The program runs with its stdout and stderr on /dev/null; when it ends, one line goes to
 * stdout: "SECONDS PEAK_KIB STATUS", from spawn to reaping, wait4's ru_maxrss, and its exit
 * status (128 + the signal that killed it). The bench does not spawn the program itself because
 * Linux carries the spawner's own peak memory across exec into the child's ru_maxrss: a large
 * spawner hides a small program's peak. This program stays small (static, no sanitizers), and
 * the program's peak only counts above its own: PEAK_KIB is 0 when it does not reach past this
 * process's own peak (VmHWM: its ru_maxrss carries its own spawner's). Exit status 0, or 2 when
 * the program could not be run. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* This process's own peak resident memory in KiB (VmHWM), or -1 when unknown. */
static long own_peak_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	int devnull, st, rc;
	long own;
	double t0, t;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: twinvm-measure PROGRAM [ARG...]\n");
		return 2;
	}
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0 || posix_spawn_file_actions_init(&fa) != 0) {
		perror("twinvm-measure: /dev/null");
		return 2;
	}
	posix_spawn_file_actions_adddup2(&fa, devnull, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, devnull, STDERR_FILENO);
	t0 = now_s();
	rc = posix_spawn(&pid, argv[1], &fa, NULL, argv + 1, environ);
	if (rc != 0) {
		fprintf(stderr, "twinvm-measure: %s: %s\n", argv[1], strerror(rc));
		return 2;
	}
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("twinvm-measure: wait4");
			return 2;
		}
	}
	t = now_s() - t0;
	own = own_peak_kib();
	printf("%.9f %ld %d\n", t, own >= 0 && ru.ru_maxrss > own ? ru.ru_maxrss : 0L,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return fflush(stdout) == 0 ? 0 : 2;
}
