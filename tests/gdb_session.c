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

static pid_t start_twinvm(const char *const *args, const char *extra, FILE *out, int err_fd)
{
	const char *argv[40] = { getenv("TWINVM_BIN"), "run" };
	int n = 2;
	pid_t pid;

	for (; *args && n < 35; args++)
		argv[n++] = *args;
	argv[n++] = "--gdb";
	argv[n++] = "127.0.0.1:0";
	if (extra)
		argv[n++] = extra;
	pid = fork();
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(err_fd, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

bool gdb_twinvm_start(struct gdb_twinvm *t, const char *const *args, const char *extra, char *why,
		      size_t len)
{
	int fds[2];

	memset(t, 0, sizeof(*t));
	t->out = tmpfile();
	if (!t->out || pipe(fds) != 0 || !getenv("TWINVM_BIN")) {
		snprintf(why, len, "cannot start twinvm: %s", strerror(errno));
		return false;
	}
	t->pid = start_twinvm(args, extra, t->out, fds[1]);
	close(fds[1]);
	t->err_fd = fds[0];
	t->port = port_of(t->err_fd, t->err, sizeof(t->err), &t->err_len);
	if (t->port > 0)
		return true;
	snprintf(why, len, "twinvm said no port: %s", t->err);
	gdb_twinvm_end(t, 1, NULL, 0);
	return false;
}

int gdb_twinvm_end(struct gdb_twinvm *t, int seconds, char *out, size_t len)
{
	int status = reap(t->pid, seconds);
	ssize_t n;

	while (t->err_len < sizeof(t->err) - 1 &&
	       (n = read(t->err_fd, t->err + t->err_len, sizeof(t->err) - 1 - t->err_len)) > 0)
		t->err_len += (size_t)n;
	t->err[t->err_len] = '\0';
	close(t->err_fd);
	if (out)
		slurp(t->out, out, len);
	fclose(t->out);
	return status;
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
	struct gdb_twinvm t;
	FILE *gout = tmpfile(), *sf;
	char path[64];
	pid_t gdb;

	memset(s, 0, sizeof(*s));
	why[0] = '\0';
	if (!gout || !gdb_twinvm_start(&t, args, NULL, why, len)) {
		if (gout)
			fclose(gout);
		return false;
	}
	sf = fopen(tv_temp_path(path, sizeof(path), ".gdb"), "w");
	fprintf(sf, "set pagination off\nset confirm off\ntarget remote 127.0.0.1:%d\n%s",
		t.port, script);
	fclose(sf);
	gdb = start_gdb(path, gout);
	if (reap(gdb, END_S) < 0) {
		snprintf(why, len, "gdb did not end in %d s", END_S);
		kill(t.pid, SIGKILL);
	}
	s->status = gdb_twinvm_end(&t, END_S, s->out, sizeof(s->out));
	snprintf(s->err, sizeof(s->err), "%s", t.err);
	unlink(path);
	slurp(gout, s->gdb, sizeof(s->gdb));
	fclose(gout);
	if (s->status < 0 && !why[0])
		snprintf(why, len, "twinvm did not end in %d s after gdb", END_S);
	return s->status >= 0;
}
