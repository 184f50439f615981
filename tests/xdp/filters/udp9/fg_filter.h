/* SPDX-License-Identifier: BSD-2-Clause */
/* Test filter: see ../common.h */
#define TF_KIND TF_UDP9
#include "../common.h"
