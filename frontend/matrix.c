/* matrix: the assignment's part-2 program. With no options it is part 2c: guest1-noio and
 * guest2-noio on one CPU under the share policy, 7:3, QUANTUM 1 s, for 10 quanta; every
 * `twinvm matrix` option works, and its messages name it "matrix". */
#include "cli.h"
#include "commands.h"

int main(int argc, char **argv)
{
	tv_cli_program("matrix");
	return tv_stdout_status("matrix", tv_matrix_main("matrix", argc, argv));
}
