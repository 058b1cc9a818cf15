/* The subcommands of the twinvm tool. Each takes its own argv (argv[0] is the subcommand) and
 * returns the process exit code. */
#ifndef TWINVM_COMMANDS_H
#define TWINVM_COMMANDS_H

int tv_cmd_run(int argc, char **argv);
int tv_cmd_info(int argc, char **argv);
int tv_cmd_matrix(int argc, char **argv);
int tv_cmd_diff(int argc, char **argv);
int tv_cmd_bench(int argc, char **argv);
int tv_cmd_trace(int argc, char **argv);
int tv_cmd_fuzz(int argc, char **argv); /* built with Zydis only */

/* The matrix tool; cmd names it in messages ("matrix"). */
int tv_matrix_main(const char *cmd, int argc, char **argv);

/* What a tool's messages put before cmd: "twinvm " for twinvm's subcommands; a tool of its own
 * (simple-kvm) sets it to "" and passes its own name as cmd. */
extern const char *tv_tool_prefix;

/* Prints "twinvm CMD: <message>" and a pointer to --help on stderr; returns 2. */
int tv_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
