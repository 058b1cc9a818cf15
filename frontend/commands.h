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

/* Prints "twinvm CMD: <message>" (the program's name after tv_cli_program) and a pointer to
 * --help on stderr; returns 2. */
int tv_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --platform's value, NULL when not given: 0 for none or pc, else one line ("twinvm CMD:
 * --platform 'x': give none or pc") and tv_usage_error's status. */
int tv_platform_check(const char *cmd, const char *name);

#endif
