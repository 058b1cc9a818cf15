/* matrix: the assignment's part-2 program. With no options it runs guest1 and guest2 on one CPU
 * under the share policy, 7:3, QUANTUM 1 s, until Ctrl-C; every `twinvm matrix` option works. */
#include "cli.h"
#include "commands.h"

int main(int argc, char **argv)
{
	return tv_stdout_status("matrix", tv_matrix_main("matrix", argc, argv));
}
