/* SPDX-License-Identifier: BSD-2-Clause */
/* extract: the answer's writer (internal). */
#ifndef EX_OUT_H
#define EX_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "extract/extract.h"

#define EX_OUT_MAX_IF 16

struct ex_out {
	FILE *f;
	enum ex_format fmt;
	int dlts[EX_OUT_MAX_IF]; /* pcapng: interface i has link type dlts[i] */
	size_t ndlt;
};

/* Writes the file header (pcap: of dlts[0]; pcapng: an IDB per link type). */
int ex_out_begin(struct ex_out *o, FILE *f, enum ex_format fmt, const int *dlts, size_t ndlt,
		 uint32_t snaplen);
int ex_out_rec(struct ex_out *o, int dlt, uint64_t ns, uint32_t caplen, uint32_t wirelen,
	       const void *data);
int ex_out_end(struct ex_out *o);

#endif
