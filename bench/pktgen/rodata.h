/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef BN_RODATA_H
#define BN_RODATA_H

#include <stdint.h>

struct bpf_object;

/* Sets the u32 at offset 0 of obj's .rodata map (the program's only
 * read-only variable) before load. 0, -EINVAL or -ENOENT (no .rodata). */
int bn_set_rodata_u32(struct bpf_object *obj, uint32_t v);

#endif
