// SPDX-License-Identifier: BSD-2-Clause
/*
 * Proof that filtergen equals libpcap on the shared corpus.
 *
 *   test_fg_corpus MODE CORPUS_DIR [WORKERS [PART]]
 *
 * MODE accept: libpcap TESTrun accept expressions (EN10MB) on every
 *              full-length Ethernet record of every corpus capture;
 *      extra:  extra_filters.txt expressions, same packets;
 *      extra-unopt: the same, libpcap's unoptimised programs through
 *              fg_from_cbpf (other program shapes; libpcap's optimizer
 *              has had bugs, so both paths are checked);
 *      apply:  libpcap_apply_tests.tsv, every record of the named savefile,
 *              also against libpcap's recorded per-packet results;
 *      reject: TESTrun reject expressions must be refused with libpcap's
 *              message.
 * Expressions left out are listed with the reason. Exit 0 only with zero
 * disagreements and errors, and a self-check that caught a wrong filter.
 */
#include "test_fg_corpus.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Under the Sanitize build: libpcap 1.10's pcap_ether_hostton leaks on
 * its error path (refused "ether host NAME"); not this test's memory. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:pcap_ether_hostton\n";
}

static const char *const pkt_dirs[] = {
	"pcaps", "pcapng", "libpcap_filter_pcaps", "pflua_pcaps",
};

static int load_all_pkts(struct fgt_pkts *pk, const char *corpus)
{
	char dir[4096];

	for (size_t i = 0; i < sizeof(pkt_dirs) / sizeof(pkt_dirs[0]); i++) {
		int err;

		snprintf(dir, sizeof(dir), "%s/%s", corpus, pkt_dirs[i]);
		err = fgt_pkts_add_dir(pk, dir);
		if (err) {
			fprintf(stderr, "%s: %s\n", dir, strerror(-err));
			return err;
		}
	}
	return 0;
}

/* One savefile per apply row; rows share loaded files. */
struct savefile {
	char name[256];
	struct fgt_pkts pk;
	int dlt;
	uint32_t snaplen;
};

static struct savefile *get_savefile(struct savefile *sf, size_t *nsf,
				     size_t max, const char *corpus,
				     const char *name)
{
	char path[4096];
	struct savefile *s;

	for (size_t i = 0; i < *nsf; i++)
		if (!strcmp(sf[i].name, name))
			return &sf[i];
	if (*nsf == max)
		return NULL;
	s = &sf[(*nsf)++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(path, sizeof(path), "%s/libpcap_filter_pcaps/%s", corpus,
		 name);
	if (fgt_pkts_load_file(&s->pk, path, &s->dlt, &s->snaplen) ||
	    fgt_pkts_kernel_check(&s->pk)) {
		fgt_pkts_free(&s->pk);
		(*nsf)--;
		return NULL;
	}
	return s;
}

static int parse_results(const char *s, uint32_t **out, size_t *n)
{
	size_t cap = 16;
	uint32_t *v = malloc(cap * sizeof(*v));

	*n = 0;
	if (!v)
		return -ENOMEM;
	while (*s) {
		char *end;

		if (*n == cap) {
			uint32_t *nv = realloc(v, (cap *= 2) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[(*n)++] = (uint32_t)strtoul(s, &end, 10);
		if (end == s) {
			free(v);
			return -EINVAL;
		}
		s = *end == ',' ? end + 1 : end;
	}
	*out = v;
	return 0;
}

static int load_apply(struct fgt_list *l, const char *corpus,
		      struct savefile *sf, size_t *nsf, size_t maxsf)
{
	char path[4096], line[8192], origin[512];
	FILE *fp;
	int err = 0;

	snprintf(path, sizeof(path), "%s/libpcap_apply_tests.tsv", corpus);
	fp = fopen(path, "r");
	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		/* name expression savefile linktype netmask skip results */
		char *f[7], perr[PCAP_ERRBUF_SIZE + 64];
		struct bpf_program prog;
		struct savefile *s;
		struct fgt_case *c;

		if (line[0] == '#')
			continue;
		fgt_split_tabs(line, f, 7);
		if (strncmp(f[3], "EN10MB(", 7)) {
			l->other_dlt++;
			continue;
		}
		snprintf(origin, sizeof(origin), "apply %s on %s", f[0], f[2]);
		if (f[4][0]) {
			fgt_list_leave_out(l, f[1], origin,
					   "needs a netmask (fg compiles with netmask 0)");
			continue;
		}
		if (!l->namedb && (strstr(f[5], "skip_no_hosts") ||
				   strstr(f[5], "skip_no_ethers") ||
				   strstr(f[5], "skip_no_networks"))) {
			fgt_list_leave_out(l, f[1], origin, l->namedb_why);
			continue;
		}
		s = get_savefile(sf, nsf, maxsf, corpus, f[2]);
		if (!s || s->dlt != DLT_EN10MB) {
			printf("APPLY-ERROR %s: savefile unreadable or not EN10MB\n",
			       origin);
			err = -EINVAL;
			break;
		}
		if (fgt_pcap_compile(f[1], s->snaplen, 0, &prog, perr,
				     sizeof(perr))) {
			char why[PCAP_ERRBUF_SIZE + 128];

			snprintf(why, sizeof(why), "refused by %s: %s",
				 pcap_lib_version(), perr);
			fgt_list_leave_out(l, f[1], origin, why);
			err = fgt_list_add_reject(l, f[1], s->snaplen, origin,
						  "");
			if (err < 0)
				break;
			err = 0;
			continue;
		}
		pcap_freecode(&prog);
		/* Apply rows are never deduped: each has its own savefile. */
		err = fgt_list_push(l, f[1], s->snaplen, origin);
		if (err < 0)
			break;
		c = &l->v[l->n - 1];
		c->pkts = &s->pk;
		err = parse_results(f[6], (uint32_t **)&c->expected,
				    &c->nexpected);
		if (err)
			break;
	}
	fclose(fp);
	return err;
}

/* Shows the recorded-results check can fail: one recorded value flipped. */
static int apply_self_check(const struct fgt_case *c0)
{
	struct fgt_stats st = { 0 };
	struct fgt_case c = *c0;
	uint32_t *exp = malloc(c.nexpected * sizeof(*exp));
	int rc = 0;

	if (!exp || !c.nexpected) {
		free(exp);
		return -1;
	}
	memcpy(exp, c0->expected, c.nexpected * sizeof(*exp));
	exp[0] = exp[0] ? 0 : c.snaplen;
	c.expected = exp;
	fgt_diff_case(c.pkts, &c, &st, 1);
	printf("SELF-CHECK one flipped recorded result (%s): %llu mismatches (must be 1)\n",
	       c.origin, (unsigned long long)st.expected_mismatch);
	if (st.expected_mismatch != 1) {
		printf("SELF-CHECK FAILED: recorded results are not checked\n");
		rc = -1;
	}
	free(exp);
	return rc;
}

int main(int argc, char **argv)
{
	struct savefile sf[64];
	size_t nsf = 0;
	struct fgt_pkts pk = { 0 };
	struct fgt_list l = { 0 };
	struct fgt_stats st = { 0 };
	char namedb_why[300] = "needs name DB (hosts/ethers/networks); ";
	const char *mode, *corpus;
	struct fgt_case *part = NULL;
	unsigned int pk_i = 1, pk_n = 1;
	size_t npart = 0;
	int workers = 2, err = 0, self = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s accept|extra|extra-unopt|apply|reject CORPUS_DIR [WORKERS [PART i/n]]\n",
			argv[0]);
		return 2;
	}
	mode = argv[1];
	corpus = argv[2];
	if (argc > 3)
		workers = atoi(argv[3]);
	/* PART "i/n": compare only every n-th expression from the i-th, so a
	 * mode can be split over several ctest tests. */
	if (argc > 4 && (sscanf(argv[4], "%u/%u", &pk_i, &pk_n) != 2 ||
			 !pk_i || pk_i > pk_n)) {
		fprintf(stderr, "bad part %s (want i/n)\n", argv[4]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("libpcap: %s\n", pcap_lib_version());
	/* A private, empty network namespace: host names in the corpus must
	 * not cause DNS traffic (nor depend on it); BPF_PROG_TEST_RUN needs
	 * no network. */
	if (unshare(CLONE_NEWNET))
		printf("unshare(CLONE_NEWNET): %s (names may be looked up)\n",
		       strerror(errno));
	/* TESTrun's host/ether/network names, in this process's view only. */
	if (fgt_namedb_enter(corpus, namedb_why + strlen(namedb_why),
			     sizeof(namedb_why) - strlen(namedb_why))) {
		printf("%s\n", namedb_why);
		l.namedb_why = namedb_why;
	} else {
		printf("name DB: libpcap_test_namedb.txt in a private /etc overlay\n");
		l.namedb = 1;
	}

	if (!strcmp(mode, "accept") || !strcmp(mode, "extra") ||
	    !strcmp(mode, "extra-unopt")) {
		l.unopt = !strcmp(mode, "extra-unopt");
		err = load_all_pkts(&pk, corpus);
		if (!err)
			err = !strcmp(mode, "accept") ?
				      fgt_load_tsv(&l, corpus, "accept") :
				      fgt_load_extra(&l, corpus);
	} else if (!strcmp(mode, "apply")) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/libpcap_filter_pcaps", corpus);
		err = fgt_pkts_add_dir(&pk, dir);
		if (!err)
			err = load_apply(&l, corpus, sf, &nsf,
					 sizeof(sf) / sizeof(sf[0]));
	} else if (!strcmp(mode, "reject")) {
		err = fgt_load_tsv(&l, corpus, "reject");
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	if (err) {
		fprintf(stderr, "loading corpus %s: %s\n", corpus,
			strerror(-err));
		err = 1;
		goto out;
	}

	if (strcmp(mode, "reject")) {
		err = fgt_pkts_kernel_check(&pk);
		if (err) {
			printf("BPF_PROG_TEST_RUN of a trivial program: %s\n",
			       strerror(-err));
			err = 1;
			goto out;
		}
		self = fgt_self_check(&pk);
		if (!self && !strcmp(mode, "apply") && l.n)
			self = apply_self_check(&l.v[0]);
		part = calloc(l.n + 1, sizeof(*part));
		if (!part) {
			err = 1;
			goto out;
		}
		for (size_t i = pk_i - 1; i < l.n; i += pk_n)
			part[npart++] = l.v[i];
		if (pk_n > 1)
			printf("part %u/%u: %zu of %zu expressions\n", pk_i, pk_n,
			       npart, l.n);
		err = fgt_diff_cases(&pk, part, npart, workers, &st);
		if (err)
			printf("fork: %s\n", strerror(-err));
	} else {
		self = fgt_reject_self_check();
	}
	/* Whatever libpcap refuses (or 1.11-only rejects) fg must refuse. */
	fgt_check_rejects(&l, &st);
	st.left_out = l.left_out;

	fgt_list_print_reasons(&l);
	printf("rows that are no filter: %zu, other link types: %zu, must-refuse checked: %zu (refused with libpcap's message: %llu, 1.10-vs-1.11 wording: %llu)\n",
	       l.not_filters, l.other_dlt, l.nrej,
	       (unsigned long long)st.rejected,
	       (unsigned long long)st.wording);
	fgt_stats_print(mode, &pk, &st);
	if (self || err || st.disagreements || st.errors) {
		printf("FAIL\n");
		err = 1;
	} else {
		printf("PASS\n");
	}
out:
	free(part);
	for (size_t i = 0; i < nsf; i++)
		fgt_pkts_free(&sf[i].pk);
	fgt_list_free(&l);
	fgt_pkts_free(&pk);
	return err;
}
