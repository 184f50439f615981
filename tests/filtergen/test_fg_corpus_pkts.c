// SPDX-License-Identifier: BSD-2-Clause
/* Corpus packets: full-length Ethernet records of every capture, deduped;
 * records cut short (0 < caplen < len) too, with their wire length, which
 * exercises `len` and loads past the captured bytes. */
#include "test_fg_corpus.h"

#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const uint8_t *p, uint32_t n, uint32_t wire_len)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ n ^ ((uint64_t)wire_len << 32);
}

static int push(struct fgt_pkts *pk, const uint8_t *data, uint32_t len,
		uint32_t wire_len, const char *file, size_t idx)
{
	struct fgt_pkt *e;

	if (pk->n == pk->cap) {
		size_t cap = pk->cap ? pk->cap * 2 : 1024;
		struct fgt_pkt *v = realloc(pk->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pk->v = v;
		pk->cap = cap;
	}
	e = &pk->v[pk->n];
	e->data = malloc(len ? len : 1);
	if (!e->data)
		return -ENOMEM;
	memcpy(e->data, data, len);
	e->len = len;
	e->wire_len = wire_len;
	snprintf(e->origin, sizeof(e->origin), "%s#%zu", file, idx);
	pk->n++;
	return 0;
}

/* Dedupe set sized 4x the packets so probing stays short; rebuilt on growth. */
static int set_grow(struct fgt_pkts *pk)
{
	size_t cap = pk->set_cap ? pk->set_cap * 2 : 8192;
	size_t *set = calloc(cap, sizeof(*set));

	if (!set)
		return -ENOMEM;
	for (size_t i = 0; i < pk->n; i++) {
		size_t h = fnv1a(pk->v[i].data, pk->v[i].len,
				 pk->v[i].wire_len) & (cap - 1);

		while (set[h])
			h = (h + 1) & (cap - 1);
		set[h] = i + 1;
	}
	free(pk->set);
	pk->set = set;
	pk->set_cap = cap;
	return 0;
}

/* Returns 1 if already present, else adds it (0) or a negative errno. */
static int add_unique(struct fgt_pkts *pk, const uint8_t *data, uint32_t len,
		      uint32_t wire_len, const char *file, size_t idx)
{
	size_t h;
	int err;

	if ((pk->n + 1) * 4 > pk->set_cap) {
		err = set_grow(pk);
		if (err)
			return err;
	}
	h = fnv1a(data, len, wire_len) & (pk->set_cap - 1);
	while (pk->set[h]) {
		const struct fgt_pkt *e = &pk->v[pk->set[h] - 1];

		if (e->len == len && e->wire_len == wire_len &&
		    !memcmp(e->data, data, len))
			return 1;
		h = (h + 1) & (pk->set_cap - 1);
	}
	err = push(pk, data, len, wire_len, file, idx);
	if (err)
		return err;
	pk->set[h] = pk->n;
	return 0;
}

static int add_file(struct fgt_pkts *pk, const char *dir, const char *name)
{
	char path[4096], errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *p;
	size_t idx = 0;
	int rc, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	pk->files++;
	p = pcap_open_offline(path, errbuf);
	if (!p) {
		pk->files_bad++;
		return 0;
	}
	/* libpcap maps LINKTYPE_ETHERNET with FCS bits (masked 0x03FFFFFF). */
	if (pcap_datalink(p) != DLT_EN10MB)
		goto out;
	pk->files_eth++;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		idx++;
		pk->records++;
		/* Empty records and records longer than their wire length
		 * (broken files) have no meaning for a filter. */
		if (h->caplen == 0 || h->caplen > h->len)
			continue;
		rc = add_unique(pk, data, h->caplen, h->len, name, idx);
		if (rc < 0) {
			err = rc;
			goto out;
		}
		pk->dups += rc;
		if (h->caplen == h->len)
			pk->full_len++;
		else
			pk->cut++;
		if (!rc && h->caplen != h->len)
			pk->cut_unique++;
	}
	/* A fuzzed file may end with a broken record: keep what was read. */
out:
	pcap_close(p);
	return err;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fgt_pkts_add_dir(struct fgt_pkts *pk, const char *dir)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		const char *dot = strrchr(de->d_name, '.');

		if (de->d_name[0] == '.' || !dot ||
		    (strcmp(dot, ".pcap") && strcmp(dot, ".pcapng")))
			continue;
		if (n == cap) {
			char **v;

			cap = cap ? cap * 2 : 256;
			v = realloc(names, cap * sizeof(*v));
			if (!v) {
				err = -ENOMEM;
				goto out;
			}
			names = v;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			err = -ENOMEM;
			goto out;
		}
		n++;
	}
	/* Sorted, so packet origins and worker splits are reproducible. */
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && !err; i++)
		err = add_file(pk, dir, names[i]);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return err;
}

int fgt_pkts_load_file(struct fgt_pkts *pk, const char *path, int *dlt,
		       uint32_t *snaplen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	const char *name = strrchr(path, '/');
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t idx = 0;
	pcap_t *p;
	int err = 0;

	name = name ? name + 1 : path;
	p = pcap_open_offline(path, errbuf);
	if (!p) {
		fprintf(stderr, "%s: %s\n", path, errbuf);
		return -ENOENT;
	}
	*dlt = pcap_datalink(p);
	*snaplen = (uint32_t)pcap_snapshot(p);
	pk->files++;
	while (pcap_next_ex(p, &h, &data) == 1) {
		idx++;
		pk->records++;
		err = push(pk, data, h->caplen, h->len, name, idx);
		if (err)
			break;
	}
	pcap_close(p);
	return err;
}

void fgt_pkts_free(struct fgt_pkts *pk)
{
	for (size_t i = 0; i < pk->n; i++)
		free(pk->v[i].data);
	free(pk->v);
	free(pk->set);
	memset(pk, 0, sizeof(*pk));
}
