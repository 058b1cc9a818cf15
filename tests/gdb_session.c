/* Debugging sessions with the real gdb (gdb_session.h). */
#include "gdb_session.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tv_test.h"

#define START_MS 20000 /* for twinvm to say where it listens */
#define END_S 60       /* for gdb's script, and then twinvm, to end */

bool gdb_present(char *why, size_t len)
{
	if (system("gdb --version >/dev/null 2>&1") == 0)
		return true;
	snprintf(why, len, "[host limit: %s] gdb is not in PATH (scripts/setup.sh installs it)",
		 tv_host_limit_tag(TV_LIMIT_NO_GDB));
	return false;
}

static void slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
}

/* Waits for pid at most seconds, then kills it: its exit status, or -1 when it had to be killed. */
static int reap(pid_t pid, int seconds)
{
	int st;

	for (int i = 0; i < seconds * 20; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Reads twinvm's stderr until it says its port. */
static int port_of(int fd, char *err, size_t len, size_t *have)
{
	const char *at;

	while (!(at = strstr(err, "listening on 127.0.0.1:"))) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, START_MS) <= 0 || (n = read(fd, err + *have, len - 1 - *have)) <= 0)
			return -1;
		*have += (size_t)n;
		err[*have] = '\0';
	}
	return atoi(at + strlen("listening on 127.0.0.1:"));
}

static pid_t start_twinvm(const char *const *args, FILE *out, int err_fd)
{
	const char *argv[40] = { getenv("TWINVM_BIN"), "run" };
	int n = 2;
	pid_t pid;

	for (; *args && n < 36; args++)
		argv[n++] = *args;
	argv[n++] = "--gdb";
	argv[n++] = "127.0.0.1:0";
	pid = fork();
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(err_fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static pid_t start_gdb(const char *script_path, FILE *out)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(out), 2);
		execlp("gdb", "gdb", "-batch", "-nx", "-x", script_path, (char *)NULL);
		_exit(127);
	}
	return pid;
}

bool gdb_session_run(const char *const *args, const char *script, struct gdb_session *s,
		     char *why, size_t len)
{
	FILE *out = tmpfile(), *gout = tmpfile(), *sf;
	char path[64];
	int fds[2], port;
	size_t have = 0;
	pid_t vm, gdb;
	ssize_t n;

	memset(s, 0, sizeof(*s));
	why[0] = '\0';
	if (!out || !gout || pipe(fds) != 0 || !getenv("TWINVM_BIN")) {
		snprintf(why, len, "cannot set up the session: %s", strerror(errno));
		return false;
	}
	vm = start_twinvm(args, out, fds[1]);
	close(fds[1]);
	port = port_of(fds[0], s->err, sizeof(s->err), &have);
	if (port <= 0) {
		snprintf(why, len, "twinvm said no port: %s", s->err);
		reap(vm, 1);
		return false;
	}
	sf = fopen(tv_temp_path(path, sizeof(path), ".gdb"), "w");
	fprintf(sf, "set pagination off\nset confirm off\ntarget remote 127.0.0.1:%d\n%s", port,
		script);
	fclose(sf);
	gdb = start_gdb(path, gout);
	if (reap(gdb, END_S) < 0) {
		snprintf(why, len, "gdb did not end in %d s", END_S);
		kill(vm, SIGKILL);
	}
	s->status = reap(vm, END_S);
	while (have < sizeof(s->err) - 1 && (n = read(fds[0], s->err + have,
						  sizeof(s->err) - 1 - have)) > 0)
		have += (size_t)n;
	s->err[have] = '\0';
	close(fds[0]);
	unlink(path);
	slurp(out, s->out, sizeof(s->out));
	slurp(gout, s->gdb, sizeof(s->gdb));
	fclose(out);
	fclose(gout);
	if (s->status < 0 && !why[0])
		snprintf(why, len, "twinvm did not end in %d s after gdb", END_S);
	return s->status >= 0;
}
