/* SPDX-License-Identifier: BSD-2-Clause */
/* Helpers shared by the afxdp tests. */
#ifndef TEST_AFXDP_UTIL_H
#define TEST_AFXDP_UTIL_H

#include <stdio.h>
#include <string.h>

/* AF_XDP sockets open in this netns (the "sockets" column of XDP). */
static inline int xdp_sockets(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/net/protocols", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "XDP ", 4))
			sscanf(line, "XDP %*d %d", &n);
	if (f)
		fclose(f);
	return n;
}

#endif
