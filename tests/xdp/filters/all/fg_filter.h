/* SPDX-License-Identifier: BSD-2-Clause */
/* Test filter: see ../common.h */
#define TF_KIND TF_ALL
#include "../common.h"
