// SPDX-License-Identifier: BSD-2-Clause
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "replay.h"

int bn_replay_load(const char *path, struct frame **out, size_t *n)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	struct frame *v = NULL, *nv;
	size_t cap = 0, skipped = 0;
	pcap_t *p = pcap_open_offline(path, errbuf);
	int rc, err = 0;

	*n = 0;
	if (!p) {
		fprintf(stderr, "bn-pktgen: %s\n", errbuf);
		return -EINVAL;
	}
	if (pcap_datalink(p) != DLT_EN10MB) {
		fprintf(stderr, "bn-pktgen: %s: not an Ethernet capture\n", path);
		err = -EINVAL;
		goto out;
	}
	while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
		if (h->caplen < 14 || h->caplen > BN_FRAME_MAX) {
			skipped++;
			continue;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				err = -ENOMEM;
				goto out;
			}
			v = nv;
		}
		v[*n].data = malloc(h->caplen);
		if (!v[*n].data) {
			err = -ENOMEM;
			goto out;
		}
		memcpy(v[*n].data, d, h->caplen);
		v[*n].len = h->caplen;
		(*n)++;
	}
	if (skipped)
		fprintf(stderr, "bn-pktgen: skipped %zu packets shorter than 14 or longer than %d bytes\n",
			skipped, BN_FRAME_MAX);
	if (!*n) {
		fprintf(stderr, "bn-pktgen: %s: no usable packets\n", path);
		err = -EINVAL;
	}
out:
	pcap_close(p);
	*out = v;
	return err;
}
