/* SPDX-License-Identifier: BSD-2-Clause */
/* xp_test NAME: runs one test of tests.h in its own test bed. */
#include <string.h>

#include "tests.h"

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "attach_native_and_generic", t_attach_modes },
	{ "close_leaves_nothing", t_close_clean },
	{ "second_attach_refused", t_second_refused },
	{ "foreign_xdp_untouched", t_foreign_refused },
	{ "clear_errors", t_errors },
	{ "multiqueue_sizes_xskmap", t_multiqueue },
	{ "counters_add_up_and_never_drop", t_counters },
	{ "config_map_mode_and_snaplen", t_config },
	{ "transparent_passes_and_copies", t_transparent },
	{ "ringbuf_path_consumes_copied_passes_rest", t_ringbuf },
	{ "filter_swap_is_atomic", t_swap },
	{ "egress_records_wire_length", t_egress },
	{ "sigkill_leftovers_removed", t_leftovers },
	{ "afxdp_frames_carry_metadata", t_xsk_meta },
	{ "real_filters_from_filtergen", t_fg },
	{ "tun_raw_ip_filter_matches_udp_only", t_tun },
};

int main(int argc, char **argv)
{
	size_t i;

	for (i = 0; argc == 2 && i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!strcmp(argv[1], tests[i].name)) {
			tests[i].fn();
			printf("PASS %s\n", tests[i].name);
			return 0;
		}
	}
	fprintf(stderr, "usage: xp_test TEST\n");
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		fprintf(stderr, "  %s\n", tests[i].name);
	return 2;
}
