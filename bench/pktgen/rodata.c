// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "rodata.h"

int bn_set_rodata_u32(struct bpf_object *obj, uint32_t v)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		const char *n = bpf_map__name(m);
		size_t sz = 0;
		const void *cur;
		uint8_t buf[64];

		if (strlen(n) < 7 || strcmp(n + strlen(n) - 7, ".rodata"))
			continue;
		/* the variable sits at offset 0: it is the only one */
		cur = bpf_map__initial_value(m, &sz);
		if (!cur || sz < sizeof(v) || sz > sizeof(buf))
			return -EINVAL;
		memcpy(buf, cur, sz);
		memcpy(buf, &v, sizeof(v));
		return bpf_map__set_initial_value(m, buf, sz);
	}
	return -ENOENT;
}
