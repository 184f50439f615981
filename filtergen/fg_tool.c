/* SPDX-License-Identifier: BSD-2-Clause */
/* fg-tool ARGS = capture-appliance filter ARGS (for tests without api/). */
#include "filtergen/filtergen.h"

int main(int argc, char **argv)
{
	argv[0] = "filter";
	return fg_cli_main(argc, argv);
}
